//! The contract as a PDF, pure: its text (the same blocks the page shows) and then the
//! signatures and audit trail, on US Letter pages in Helvetica (one of the PDF base fonts,
//! so nothing is embedded), text streams left uncompressed. Written with `pdf-writer`.
use super::text::{self, Block};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const MARGIN: f32 = 60.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Helvetica's advance widths (per 1000 units of the font size) of the characters 32 to 126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/// A character in WinAnsiEncoding (Latin-1 and the usual punctuation); others become `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        '\t' => b' ',
        _ => b'?',
    }
}

fn encode(s: &str) -> Vec<u8> {
    s.chars().map(win_ansi).collect()
}

/// The width of encoded text in points.
fn width(bytes: &[u8], size: f32, bold: bool) -> f32 {
    let units: u32 = bytes
        .iter()
        .map(|&b| match b {
            32..=126 => HELVETICA[(b - 32) as usize] as u32,
            _ => 556,
        })
        .sum();
    // Helvetica-Bold is a little wider; measuring it 6% wider keeps lines inside the margin.
    units as f32 * size / 1000.0 * if bold { 1.06 } else { 1.0 }
}

/// Text broken into lines no wider than `max` (a word longer than a line is cut).
fn wrap(s: &str, size: f32, bold: bool, max: f32) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = vec![];
    let mut line: Vec<u8> = vec![];
    for word in s.split_whitespace() {
        let mut word = encode(word);
        loop {
            let candidate = if line.is_empty() {
                word.clone()
            } else {
                [line.as_slice(), b" ", word.as_slice()].concat()
            };
            if width(&candidate, size, bold) <= max {
                line = candidate;
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word wider than the line: as much of it as fits, then the rest.
            let mut cut = word.len();
            while cut > 1 && width(&word[..cut], size, bold) > max {
                cut -= 1;
            }
            lines.push(word[..cut].to_vec());
            word = word[cut..].to_vec();
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line placed on a page.
struct Placed {
    bold: bool,
    size: f32,
    x: f32,
    y: f32,
    text: Vec<u8>,
}

/// Lays lines out top to bottom, page after page.
struct Layout {
    pages: Vec<Vec<Placed>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![vec![]],
            y: HEIGHT - MARGIN,
        }
    }

    fn space(&mut self, points: f32) {
        self.y -= points;
    }

    /// A paragraph at `indent`, its first line led by `lead` (a bullet or number) in the
    /// indent.
    fn paragraph(&mut self, s: &str, size: f32, bold: bool, indent: f32, lead: Option<String>) {
        let leading = size * 1.35;
        let max = WIDTH - 2.0 * MARGIN - indent;
        for (i, line) in wrap(&text::plain(s), size, bold, max)
            .into_iter()
            .enumerate()
        {
            if self.y - leading < MARGIN + 20.0 {
                self.pages.push(vec![]);
                self.y = HEIGHT - MARGIN;
            }
            self.y -= leading;
            let page = self.pages.last_mut().expect("one page at least");
            if i == 0 {
                if let Some(lead) = &lead {
                    page.push(Placed {
                        bold,
                        size,
                        x: MARGIN + indent - 14.0,
                        y: self.y,
                        text: encode(lead),
                    });
                }
            }
            page.push(Placed {
                bold,
                size,
                x: MARGIN + indent,
                y: self.y,
                text: line,
            });
        }
    }
}

/// The PDF of a contract: `title` in the document's properties, the text's blocks, then the
/// `trail` under "Signatures and audit trail", and "Page N of M" at the foot of each page.
pub fn contract(title: &str, body: &str, trail: &[String]) -> Vec<u8> {
    let mut layout = Layout::new();
    for block in text::blocks(body) {
        match block {
            Block::Heading(level, t) => {
                let size = match level {
                    1 => 17.0,
                    2 => 13.0,
                    _ => 11.5,
                };
                layout.space(if level == 1 { 0.0 } else { 8.0 });
                layout.paragraph(&t, size, true, 0.0, None);
                layout.space(4.0);
            }
            Block::Paragraph(t) => {
                layout.paragraph(&t, 10.5, false, 0.0, None);
                layout.space(6.0);
            }
            Block::Bullets(items) => {
                for i in items {
                    layout.paragraph(&i, 10.5, false, 16.0, Some("•".into()));
                    layout.space(2.0);
                }
                layout.space(4.0);
            }
            Block::Numbered(items) => {
                for (n, i) in items.iter().enumerate() {
                    layout.paragraph(i, 10.5, false, 16.0, Some(format!("{}.", n + 1)));
                    layout.space(2.0);
                }
                layout.space(4.0);
            }
        }
    }
    layout.space(12.0);
    layout.paragraph("Signatures and audit trail", 13.0, true, 0.0, None);
    layout.space(4.0);
    for line in trail {
        layout.paragraph(line, 9.0, false, 0.0, None);
        layout.space(5.0);
    }
    write(title, layout.pages)
}

fn write(title: &str, pages: Vec<Vec<Placed>>) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let count = pages.len();
    let page_ids: Vec<Ref> = (0..count).map(|i| Ref::new(6 + 2 * i as i32)).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(count as i32);
    for (font, id) in [
        (b"Helvetica".as_slice(), regular),
        (b"Helvetica-Bold", bold),
    ] {
        pdf.type1_font(id)
            .base_font(Name(font))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(title))
        .creator(TextStr("ProjectFlo"));
    for (n, placed) in pages.into_iter().enumerate() {
        let page_id = page_ids[n];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
            .parent(tree)
            .contents(content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        page.finish();
        let mut content = Content::new();
        for p in placed {
            content
                .begin_text()
                .set_font(if p.bold { BOLD } else { REGULAR }, p.size)
                .next_line(p.x, p.y)
                .show(Str(&p.text))
                .end_text();
        }
        let foot = encode(&format!("Page {} of {count}", n + 1));
        let x = WIDTH - MARGIN - width(&foot, 8.0, false);
        content
            .begin_text()
            .set_font(REGULAR, 8.0)
            .next_line(x, MARGIN - 20.0)
            .show(Str(&foot))
            .end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_is_a_pdf_with_its_text_and_trail_in_plain_streams() {
        let body = "# Agreement\n\nBetween **Golden Hour** and Sofia García.\n\n- Reception × 1: €1.00\n\n1. first";
        let long = "word ".repeat(2000);
        let trail = vec![
            "Signed by Sofia Garcia from 203.0.113.7".to_string(),
            format!("Text SHA-256: {}", "a".repeat(64)),
            long,
        ];
        let pdf = contract("Contract", body, &trail);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"));
        let find = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
        assert!(find(b"(Agreement)"));
        assert!(find(b"Signed by Sofia Garcia from 203.0.113.7"));
        assert!(find(&"a".repeat(64).into_bytes()));
        // A line with characters past ASCII is written as a hex string of its WinAnsi bytes.
        let hex = |b: &[u8]| -> Vec<u8> {
            let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
            format!("<{h}>").into_bytes()
        };
        let upper = pdf.to_ascii_uppercase();
        let found = |n: Vec<u8>| upper.windows(n.len()).any(|w| w == n.as_slice());
        assert!(found(hex(b"Between Golden Hour and Sofia Garc\xeda.")));
        assert!(found(hex(b"Reception \xd7 1: \x801.00")));
        assert!(find(b"/Count 2"), "a long trail goes on to a second page");
        assert!(find(b"(Page 2 of 2)"));
    }

    #[test]
    fn lines_stay_inside_the_margins() {
        let max = WIDTH - 2.0 * MARGIN;
        let lines = wrap(&"Wedding videography ".repeat(40), 10.5, false, max);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| width(l, 10.5, false) <= max));
        let cut = wrap(&"x".repeat(300), 10.5, false, max);
        assert!(cut.len() > 1 && cut.iter().all(|l| width(l, 10.5, false) <= max));
        assert_eq!(cut.concat().len(), 300);
    }
}
