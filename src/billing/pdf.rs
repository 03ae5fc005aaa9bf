//! The invoice as a PDF, pure: the studio, the couple, the invoice's line, its tax, total,
//! what is paid and what is owed, and the payments, on one US Letter page in Helvetica (a PDF
//! base font: nothing embedded), written with `pdf-writer` like the contract. No logo: the
//! studio's logo may be any image format, and embedding one is not simple enough here.
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const MARGIN: f32 = 60.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
/// At most this many payment rows; the rest are counted.
const MAX_ROWS: usize = 25;

/// What the PDF says, already in words and money.
pub struct Sheet {
    pub studio: String,
    /// "Invoice GHF-0003" or "Credit note GHF-0007".
    pub title: String,
    pub couple: String,
    pub project: String,
    /// (label, value): issued, due, status.
    pub facts: Vec<(String, String)>,
    pub description: String,
    pub amount: String,
    /// (label, value): tax (when there is one), total, paid, owed.
    pub totals: Vec<(String, String)>,
    /// (day, what, amount).
    pub payments: Vec<(String, String, String)>,
    pub footer: String,
}

/// A character in WinAnsiEncoding (Latin-1 and the usual punctuation); others become `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        _ => b'?',
    }
}

fn encode(s: &str) -> Vec<u8> {
    s.chars().map(win_ansi).collect()
}

/// Roughly the width of text in Helvetica (digits, the currency signs and most letters are
/// 556 units; punctuation narrower), for right-aligned amounts.
fn width(bytes: &[u8], size: f32) -> f32 {
    let units: u32 = bytes
        .iter()
        .map(|b| match b {
            b',' | b'.' | b' ' => 278,
            b'-' => 333,
            b'i' | b'l' | b'I' => 222,
            b'm' | b'M' | b'W' | b'w' => 833,
            _ => 556,
        })
        .sum();
    units as f32 * size / 1000.0
}

struct Writer {
    content: Content,
    y: f32,
}

impl Writer {
    fn text(&mut self, x: f32, s: &str, size: f32, bold: bool) {
        let bytes = encode(s);
        self.content
            .begin_text()
            .set_font(if bold { BOLD } else { REGULAR }, size)
            .next_line(x, self.y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Text ending at `right`.
    fn right(&mut self, right: f32, s: &str, size: f32, bold: bool) {
        let w = width(&encode(s), size) * if bold { 1.06 } else { 1.0 };
        self.text(right - w, s, size, bold);
    }

    fn down(&mut self, by: f32) {
        self.y -= by;
    }
}

/// The PDF of an invoice.
pub fn invoice(sheet: &Sheet) -> Vec<u8> {
    let right = WIDTH - MARGIN;
    let mut w = Writer {
        content: Content::new(),
        y: HEIGHT - MARGIN,
    };
    w.text(MARGIN, &sheet.studio, 18.0, true);
    w.down(30.0);
    w.text(MARGIN, &sheet.title, 14.0, true);
    w.down(22.0);
    w.text(MARGIN, &format!("For: {}", sheet.couple), 10.5, false);
    w.down(14.0);
    w.text(MARGIN, &format!("Project: {}", sheet.project), 10.5, false);
    w.down(14.0);
    for (label, value) in &sheet.facts {
        w.text(MARGIN, &format!("{label}: {value}"), 10.5, false);
        w.down(14.0);
    }
    w.down(12.0);
    w.text(MARGIN, "Description", 10.5, true);
    w.right(right, "Amount", 10.5, true);
    w.down(16.0);
    w.text(MARGIN, &sheet.description, 10.5, false);
    w.right(right, &sheet.amount, 10.5, false);
    w.down(22.0);
    for (label, value) in &sheet.totals {
        w.text(right - 220.0, label, 10.5, true);
        w.right(right, value, 10.5, false);
        w.down(15.0);
    }
    if !sheet.payments.is_empty() {
        w.down(14.0);
        w.text(MARGIN, "Payments", 12.0, true);
        w.down(16.0);
        for (day, what, amount) in sheet.payments.iter().take(MAX_ROWS) {
            w.text(MARGIN, day, 10.0, false);
            w.text(MARGIN + 110.0, what, 10.0, false);
            w.right(right, amount, 10.0, false);
            w.down(13.0);
        }
        if sheet.payments.len() > MAX_ROWS {
            let more = sheet.payments.len() - MAX_ROWS;
            w.text(MARGIN, &format!("and {more} more"), 10.0, false);
            w.down(13.0);
        }
    }
    w.y = MARGIN;
    w.text(MARGIN, &sheet.footer, 9.0, false);
    write(&sheet.title, w.content)
}

fn write(title: &str, content: Content) -> Vec<u8> {
    let (catalog, tree, page_id, contents) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let (regular, bold, info) = (Ref::new(5), Ref::new(6), Ref::new(7));
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
        .parent(tree)
        .contents(contents);
    page.resources()
        .fonts()
        .pair(REGULAR, regular)
        .pair(BOLD, bold);
    page.finish();
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
    pdf.stream(contents, &content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoice_is_a_pdf_with_its_number_tax_and_totals() {
        let sheet = Sheet {
            studio: "Golden Hour Films".into(),
            title: "Invoice GHF-0003".into(),
            couple: "Sofia García".into(),
            project: "Sofia García wedding".into(),
            facts: vec![("Due".into(), "June 12, 2027".into())],
            description: "Balance".into(),
            amount: "$1,000.00".into(),
            totals: vec![
                ("Tax".into(), "$82.50".into()),
                ("Total".into(), "$1,082.50".into()),
            ],
            payments: (0..30)
                .map(|n| (format!("Day {n}"), "Cash".into(), "$1.00".into()))
                .collect(),
            footer: "Pay in your portal".into(),
        };
        let pdf = invoice(&sheet);
        assert!(pdf.starts_with(b"%PDF-"));
        let find = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
        assert!(find(b"(Invoice GHF-0003)"));
        assert!(find(b"($82.50)"));
        assert!(find(b"(and 5 more)"));
    }
}
