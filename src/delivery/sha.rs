//! A SHA-256 that can stop between two requests and go on in the next: its state after the
//! last whole 64-byte block (32 bytes) and the bytes after that block (fewer than 64) are all
//! it needs, so a resumable upload keeps them in its row and hashes each chunk as it streams
//! past, never reading the file a second time.
use sha2::digest::generic_array::GenericArray;

const INITIAL: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumable {
    state: [u32; 8],
    /// Bytes hashed into `state` (a multiple of 64).
    blocks_len: u64,
    /// Bytes after the last whole block.
    tail: Vec<u8>,
}

impl Default for Resumable {
    fn default() -> Self {
        Resumable {
            state: INITIAL,
            blocks_len: 0,
            tail: vec![],
        }
    }
}

impl Resumable {
    /// From what `saved` gave, and the number of bytes hashed so far (the upload's offset).
    pub fn restore(state: &[u8], tail: &[u8], total: u64) -> Option<Resumable> {
        if state.len() != 32 || tail.len() >= 64 || (total < tail.len() as u64) {
            return None;
        }
        let blocks_len = total - tail.len() as u64;
        if blocks_len % 64 != 0 {
            return None;
        }
        let mut s = [0u32; 8];
        for (i, word) in state.chunks_exact(4).enumerate() {
            s[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        Some(Resumable {
            state: s,
            blocks_len,
            tail: tail.to_vec(),
        })
    }

    /// The state and the tail, to keep until the next chunk.
    pub fn saved(&self) -> (Vec<u8>, Vec<u8>) {
        let state = self.state.iter().flat_map(|w| w.to_be_bytes()).collect();
        (state, self.tail.clone())
    }

    pub fn update(&mut self, mut data: &[u8]) {
        if !self.tail.is_empty() {
            let need = 64 - self.tail.len();
            let take = need.min(data.len());
            self.tail.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.tail.len() < 64 {
                return;
            }
            let block = std::mem::take(&mut self.tail);
            sha2::compress256(&mut self.state, &[*GenericArray::from_slice(&block)]);
            self.blocks_len += 64;
        }
        let whole = data.len() / 64 * 64;
        let blocks: Vec<GenericArray<u8, _>> = data[..whole]
            .chunks_exact(64)
            .map(|b| *GenericArray::from_slice(b))
            .collect();
        if !blocks.is_empty() {
            sha2::compress256(&mut self.state, &blocks);
            self.blocks_len += whole as u64;
        }
        self.tail.extend_from_slice(&data[whole..]);
    }

    /// The digest, in hex.
    pub fn finish(mut self) -> String {
        let bits = (self.blocks_len + self.tail.len() as u64) * 8;
        let mut last = std::mem::take(&mut self.tail);
        last.push(0x80);
        while last.len() % 64 != 56 {
            last.push(0);
        }
        last.extend_from_slice(&bits.to_be_bytes());
        let blocks: Vec<GenericArray<u8, _>> = last
            .chunks_exact(64)
            .map(|b| *GenericArray::from_slice(b))
            .collect();
        sha2::compress256(&mut self.state, &blocks);
        self.state.iter().map(|w| format!("{w:08x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn reference(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    #[test]
    fn equals_sha256_in_any_split_and_across_a_save() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000] {
            let part = &data[..len];
            for cut in [0, 1, 30, 64, 100, len] {
                let cut = cut.min(len);
                let mut h = Resumable::default();
                h.update(&part[..cut]);
                let (state, tail) = h.saved();
                let mut h = Resumable::restore(&state, &tail, cut as u64).unwrap();
                h.update(&part[cut..]);
                assert_eq!(h.finish(), reference(part), "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn a_state_that_does_not_fit_the_offset_is_refused() {
        assert!(Resumable::restore(&[0; 32], &[1, 2], 65).is_none());
        assert!(Resumable::restore(&[0; 31], &[], 0).is_none());
        assert!(Resumable::restore(&[0; 32], &[1, 2], 66).is_some());
    }
}
