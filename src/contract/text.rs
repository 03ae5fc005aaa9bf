//! The contract's text, pure: the merge fields a template may use, checking a template,
//! filling the fields in, the payment split, and the small markup a contract is written in
//! (paragraphs, `#`/`##`/`###` headings, `-` and `1.` lists, `**bold**`), read into blocks for
//! the page (escaped HTML: nobody's raw HTML reaches a page) and for the PDF.
use sha2::{Digest, Sha256};

/// The merge fields, each with what it becomes.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "couple_names",
        "The names of everyone signing for the couple, e.g. Sofia Garcia and Mateo Ruiz.",
    ),
    ("wedding_date", "The wedding date, e.g. June 14, 2027."),
    ("venue", "The venue, as on the inquiry."),
    ("coverage", "The coverage, one line each with its price."),
    ("films", "The films, one line each with its price."),
    (
        "add_ons",
        "The add-ons and style extras, one line each with its price.",
    ),
    ("total", "The total of the accepted proposal."),
    (
        "deposit",
        "The deposit: the studio's deposit percent of the total.",
    ),
    ("balance", "The balance: the total less the deposit."),
    (
        "payment_schedule",
        "The deposit and when it is due, then the balance and its due date.",
    ),
    (
        "proposal_version",
        "The number of the proposal version accepted.",
    ),
    ("studio_name", "The studio's name."),
];

/// The SHA-256 of a text's UTF-8 bytes, in lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A piece of a template: text as written, or a merge field's name.
enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// A template's pieces, or the first problem in plain words.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = vec![];
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a merge field is not closed: write it as {{name}}".into());
        };
        let name = after[..end].trim();
        if name.is_empty() || name.contains("{{") {
            return Err("a merge field is not closed: write it as {{name}}".into());
        }
        out.push(Piece::Field(name));
        rest = &after[end + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Whether a template can be saved: not blank, at most 100,000 characters, every `{{field}}`
/// known. The message names the unknown fields and the known ones.
pub fn check(template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("write the contract's text".into());
    }
    if template.chars().count() > 100_000 {
        return Err("at most 100,000 characters".into());
    }
    let mut unknown: Vec<&str> = vec![];
    for p in pieces(template)? {
        let Piece::Field(name) = p else { continue };
        if !FIELDS.iter().any(|f| f.0 == name) && !unknown.contains(&name) {
            unknown.push(name);
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = unknown.iter().map(|n| format!("{{{{{n}}}}}")).collect();
    let known: Vec<String> = FIELDS.iter().map(|f| format!("{{{{{}}}}}", f.0)).collect();
    Err(format!(
        "unknown merge field{} {}; use {}",
        if unknown.len() == 1 { "" } else { "s" },
        listed.join(", "),
        known.join(", ")
    ))
}

/// The template with every field filled in by `value` (a checked template; an unknown field
/// is left as written). Values are put in as they are, never read for fields again.
pub fn merge(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() * 2);
    for p in pieces(template)? {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(name) => match value(name) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str("{{");
                    out.push_str(name);
                    out.push_str("}}");
                }
            },
        }
    }
    Ok(out)
}

/// A block of a contract's text.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1 to 3, and its text.
    Heading(u8, String),
    Paragraph(String),
    Bullets(Vec<String>),
    Numbered(Vec<String>),
}

/// A list item's text when the line is one: (numbered, text).
fn list_item(line: &str) -> Option<(bool, &str)> {
    if let Some(t) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some((false, t.trim()));
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if (1..=3).contains(&digits) {
        if let Some(t) = line[digits..].strip_prefix(". ") {
            return Some((true, t.trim()));
        }
    }
    None
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    if (1..=3).contains(&hashes) {
        if let Some(t) = line[hashes..].strip_prefix(' ') {
            return Some((hashes as u8, t.trim()));
        }
    }
    None
}

/// The text's blocks: a blank line ends a paragraph, lines of one paragraph are joined.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = vec![];
    let mut para: Vec<&str> = vec![];
    let flush = |para: &mut Vec<&str>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Paragraph(para.join(" ")));
            para.clear();
        }
    };
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            flush(&mut para, &mut out);
            continue;
        }
        if let Some((level, t)) = heading(line) {
            flush(&mut para, &mut out);
            out.push(Block::Heading(level, t.to_string()));
        } else if let Some((numbered, t)) = list_item(line) {
            flush(&mut para, &mut out);
            match (out.last_mut(), numbered) {
                (Some(Block::Numbered(items)), true) | (Some(Block::Bullets(items)), false) => {
                    items.push(t.to_string())
                }
                (_, true) => out.push(Block::Numbered(vec![t.to_string()])),
                (_, false) => out.push(Block::Bullets(vec![t.to_string()])),
            }
        } else {
            para.push(line);
        }
    }
    flush(&mut para, &mut out);
    out
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A line of text as HTML: escaped, `**bold**` as strong (an unpaired `**` stays as written).
fn inline_html(s: &str, out: &mut String) {
    let parts: Vec<&str> = s.split("**").collect();
    let paired = parts.len() % 2 == 1;
    for (i, part) in parts.iter().enumerate() {
        let bold = paired && i % 2 == 1;
        if i > 0 && !paired {
            out.push_str("**");
        }
        if bold {
            out.push_str("<strong>");
        }
        escape(part, out);
        if bold {
            out.push_str("</strong>");
        }
    }
}

/// A line of text as plain text (for the PDF): the `**` of bold pairs taken out.
pub fn plain(s: &str) -> String {
    let parts: Vec<&str> = s.split("**").collect();
    if parts.len() % 2 == 1 {
        parts.concat()
    } else {
        s.to_string()
    }
}

fn list(tag: &str, items: &[String], out: &mut String) {
    out.push_str(&format!("<{tag}>"));
    for i in items {
        out.push_str("<li>");
        inline_html(i, out);
        out.push_str("</li>");
    }
    out.push_str(&format!("</{tag}>\n"));
}

/// The text as HTML, its `#` headings at level `top` (the page's own headings come first),
/// `##` one below and `###` two below (never past h6).
pub fn to_html(text: &str, top: u8) -> String {
    let mut out = String::new();
    for b in blocks(text) {
        match b {
            Block::Heading(level, t) => {
                let h = (level + top - 1).min(6);
                out.push_str(&format!("<h{h}>"));
                inline_html(&t, &mut out);
                out.push_str(&format!("</h{h}>\n"));
            }
            Block::Paragraph(t) => {
                out.push_str("<p>");
                inline_html(&t, &mut out);
                out.push_str("</p>\n");
            }
            Block::Bullets(items) => list("ul", &items, &mut out),
            Block::Numbered(items) => list("ol", &items, &mut out),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_unclosed_fields_are_refused_by_name() {
        assert!(check("Hi {{couple_names}} on {{ wedding_date }}").is_ok());
        let e = check("Hi {{couple_name}} and {{spouse}} and {{couple_name}}").unwrap_err();
        assert!(
            e.starts_with("unknown merge fields {{couple_name}}, {{spouse}};"),
            "{e}"
        );
        assert!(e.contains("{{couple_names}}"), "{e}");
        assert!(
            check("Hi {{couple_names")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(check("{{}}").is_err());
        assert!(check("   \n").is_err());
    }

    #[test]
    fn merging_fills_every_field_once_and_never_reads_values_for_fields() {
        let text = merge("A {{studio_name}} / {{ total }} / {{venue}}", |n| match n {
            "studio_name" => Some("{{total}}".into()),
            "total" => Some("$10.00".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(text, "A {{total}} / $10.00 / {{venue}}");
    }

    #[test]
    fn the_markup_is_blocks_and_escaped_html() {
        let text = "# Title\n\nOne **bold** line\ncontinues <b>here</b>.\n\n- a\n- b & c\n\n1. first\n2. second\n## Sub";
        assert_eq!(
            blocks(text),
            vec![
                Block::Heading(1, "Title".into()),
                Block::Paragraph("One **bold** line continues <b>here</b>.".into()),
                Block::Bullets(vec!["a".into(), "b & c".into()]),
                Block::Numbered(vec!["first".into(), "second".into()]),
                Block::Heading(2, "Sub".into()),
            ]
        );
        let html = to_html(text, 2);
        assert!(html.contains("<h2>Title</h2>"), "{html}");
        assert!(
            html.contains(
                "<p>One <strong>bold</strong> line continues &lt;b&gt;here&lt;/b&gt;.</p>"
            ),
            "{html}"
        );
        assert!(html.contains("<li>b &amp; c</li>"), "{html}");
        assert!(
            html.contains("<ol><li>first</li><li>second</li></ol>"),
            "{html}"
        );
        assert!(html.contains("<h3>Sub</h3>"), "{html}");
        assert!(!to_html("<script>alert(1)</script>", 2).contains("<script"));
        assert!(to_html("### Deep", 5).contains("<h6>Deep</h6>"));
        assert_eq!(plain("a **b** c"), "a b c");
        assert_eq!(plain("a ** b"), "a ** b");
    }
}
