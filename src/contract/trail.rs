//! The contract's audit trail in words (who signed, for whom, when, from where, with which
//! browser, consent, which hash) and the contract as a PDF with it. Pure.
use super::contracts::{Full, Stage};
use super::pdf;
use super::rendering::names;
use crate::studio::Studio;

/// The lines of the audit trail: the contract, its fingerprint, where it stands, then every
/// signature (who, for whom, when, from where, with which user agent, consent, which hash).
pub fn trail(studio: &Studio, full: &Full) -> Vec<String> {
    let c = &full.contract;
    let zone = &studio.time_zone;
    let mut lines = vec![
        format!(
            "Contract for quote #{}, made from proposal version {} on {} ({zone}).",
            c.build_id,
            c.proposal_version,
            studio.time(&c.created_at)
        ),
        format!("Text SHA-256: {}", c.text_sha256.trim()),
    ];
    match full.stage() {
        Stage::Void => lines.push(format!(
            "VOID since {}: {}",
            c.voided_at.map_or(String::new(), |v| studio.time(&v)),
            c.void_reason.clone().unwrap_or_default()
        )),
        Stage::AwaitingSignatures => {
            let waiting: Vec<String> = full.waiting().iter().map(|s| s.name.clone()).collect();
            lines.push(format!(
                "Not fully signed: waiting for {} to sign, then the studio.",
                names(&waiting)
            ));
        }
        Stage::AwaitingCountersignature => {
            lines.push("Not fully signed: waiting for the studio to countersign.".into())
        }
        Stage::FullySigned => lines.push("Fully signed by the couple and the studio.".into()),
    }
    for s in &full.signatures {
        let role = if s.role == "studio" {
            "for the studio"
        } else {
            "for the couple"
        };
        lines.push(format!(
            "Signed by {} ({}) {role} on {} ({zone}; {} UTC) from IP address {}, user agent: {}. \
             Agreed to sign electronically: {}. SHA-256 of the text signed: {}",
            s.signer_name,
            s.email,
            studio.time(&s.signed_at),
            s.signed_at.format("%Y-%m-%d %H:%M:%S"),
            s.ip,
            s.user_agent,
            if s.consent { "yes" } else { "no" },
            s.text_sha256.trim()
        ));
    }
    lines
}

/// The contract in force as a PDF, as a response: the signed copy kept with the documents once
/// everyone signed; before that (or where no file was kept), made now with the trail so far.
pub async fn pdf_response(
    conn: &mut sqlx::PgConnection,
    data_dir: &std::path::Path,
    studio: &Studio,
    full: &Full,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let bytes = match full.contract.document_id {
        Some(d) => crate::crm::documents::read(conn, data_dir, d).await?.1,
        None => pdf_of(studio, full),
    };
    let name = format!("contract-quote-{}.pdf", full.contract.build_id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The contract as a PDF: its text and its audit trail.
pub fn pdf_of(studio: &Studio, full: &Full) -> Vec<u8> {
    let title = format!(
        "{} contract, quote #{}",
        studio.studio_name, full.contract.build_id
    );
    pdf::contract(&title, &full.contract.body, &trail(studio, full))
}
