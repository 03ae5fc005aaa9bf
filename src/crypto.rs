//! Passwords (argon2id, OWASP parameters, hashed off the async runtime), random tokens, and
//! secrets kept at rest (AES-256-GCM: Google Calendar refresh and access tokens).
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::anyhow;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// OWASP's recommended argon2id configuration: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid params"),
    )
}

/// At most two argon2 runs at once: each takes 19 MiB and a core, so a burst of logins cannot
/// take the machine's memory or starve the other requests.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow!("hashing: {e}"))
    })
    .await?
}

/// A hash of nothing anyone knows: verifying against it costs what a real check costs, so an
/// unknown email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    argon2()
        .hash_password(b"no such account", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string()
});

/// Checks `password` against `hash` (or against a dummy hash when there is none).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = PasswordHash::new(&hash)
            .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
        ok && real
    })
    .await
    .unwrap_or(false)
}

/// A new random token (256 bits, hex).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex(&b)
}

/// How tokens are stored: SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A 256-bit key for secrets kept at rest, from settings: 64 hex digits (`openssl rand -hex
/// 32`). Never shown by `Debug`.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl std::str::FromStr for SealKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = hex::decode(s.trim()).map_err(|_| "64 hex digits (openssl rand -hex 32)")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "64 hex digits, a 256-bit key (openssl rand -hex 32)")?;
        Ok(SealKey(key))
    }
}

/// What a sealed value starts with (the format, should it ever change).
const SEALED: &str = "gcm1:";

/// Encrypt `secret` with AES-256-GCM under a fresh random 96-bit nonce; `context` (e.g. the
/// row it belongs to) is authenticated with it, so a sealed value copied to another row does
/// not open there. Stored as `gcm1:` + hex(nonce || ciphertext || tag).
pub fn seal(key: &SealKey, context: &str, secret: &str) -> String {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = Aes256Gcm::new((&key.0).into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: context.as_bytes(),
            },
        )
        .expect("AES-GCM encryption of a short secret");
    format!("{SEALED}{}{}", hex(&nonce), hex(&sealed))
}

/// Decrypt a value `seal` made with the same key and context.
pub fn open(key: &SealKey, context: &str, sealed: &str) -> anyhow::Result<String> {
    let bytes = sealed
        .strip_prefix(SEALED)
        .and_then(|h| hex::decode(h).ok())
        .filter(|b| b.len() > 12 + 16)
        .ok_or_else(|| anyhow!("a sealed secret of an unknown format"))?;
    let (nonce, body) = bytes.split_at(12);
    let plain = Aes256Gcm::new((&key.0).into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| anyhow!("a sealed secret that does not open with this key"))?;
    String::from_utf8(plain).map_err(|_| anyhow!("a sealed secret that is not text"))
}

/// The password rule, with a message a person can act on.
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 10 {
        return Err("must be at least 10 characters");
    }
    if password.len() > 512 {
        return Err("must be at most 512 bytes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_only_against_its_own_hash() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify_password("wrong".into(), Some(h)).await);
        assert!(!verify_password("no such account".into(), None).await);
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let key: SealKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            .parse()
            .unwrap();
        let other: SealKey = "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            .parse()
            .unwrap();
        let a = seal(&key, "sync:1", "1//refresh-token");
        let b = seal(&key, "sync:1", "1//refresh-token");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(a.starts_with("gcm1:") && !a.contains("refresh"));
        assert_eq!(open(&key, "sync:1", &a).unwrap(), "1//refresh-token");
        assert!(open(&key, "sync:2", &a).is_err());
        assert!(open(&other, "sync:1", &a).is_err());
        assert!(open(&key, "sync:1", "gcm1:00").is_err());
        assert!("abc".parse::<SealKey>().is_err());
        assert_eq!(format!("{key:?}"), "SealKey(..)");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
