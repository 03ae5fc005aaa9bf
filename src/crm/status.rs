//! The status of an inquiry: the spec's PostgreSQL enum `inquiries_status` as one Rust type,
//! read and written by the database, the JSON API and the pages as the same words.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where an inquiry stands: "New", "Contacted", "Proposal Sent", "Booked" or "Closed-Lost",
/// spelled so in the database, in JSON and on the pages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "inquiries_status")]
pub enum InquiryStatus {
    New,
    Contacted,
    #[serde(rename = "Proposal Sent")]
    #[sqlx(rename = "Proposal Sent")]
    ProposalSent,
    Booked,
    #[serde(rename = "Closed-Lost")]
    #[sqlx(rename = "Closed-Lost")]
    ClosedLost,
}

use InquiryStatus::*;

impl InquiryStatus {
    /// Every status, in the pipeline's order (the board's columns).
    pub const ALL: [InquiryStatus; 5] = [New, Contacted, ProposalSent, Booked, ClosedLost];

    /// The statuses of a lead still in play: neither booked nor lost.
    pub const OPEN: [InquiryStatus; 3] = [New, Contacted, ProposalSent];

    /// The status as the database, the API and the pages write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            New => "New",
            Contacted => "Contacted",
            ProposalSent => "Proposal Sent",
            Booked => "Booked",
            ClosedLost => "Closed-Lost",
        }
    }

    /// Still in play: New, Contacted or Proposal Sent.
    pub const fn is_open(self) -> bool {
        matches!(self, New | Contacted | ProposalSent)
    }
}

impl fmt::Display for InquiryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for InquiryStatus {
    /// The reason a person can read: `"Lost" is not a status; use one of New, …`.
    type Err = String;

    /// The status written exactly so (as the forms and the API send it).
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("\"{s}\" is not a status; use one of {}", all.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_the_spec_spells_them() {
        let words: Vec<String> = InquiryStatus::ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            words,
            ["New", "Contacted", "Proposal Sent", "Booked", "Closed-Lost"]
        );
        for s in InquiryStatus::ALL {
            assert_eq!(s.as_str().parse::<InquiryStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
    }

    #[test]
    fn open_means_still_in_play() {
        let open: Vec<InquiryStatus> = InquiryStatus::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(open, InquiryStatus::OPEN);
        assert_eq!(open, [New, Contacted, ProposalSent]);
    }

    #[test]
    fn an_unknown_word_says_what_is_allowed() {
        assert_eq!(
            "Lost".parse::<InquiryStatus>().unwrap_err(),
            "\"Lost\" is not a status; use one of New, Contacted, Proposal Sent, Booked, \
             Closed-Lost"
        );
        assert!("new".parse::<InquiryStatus>().is_err());
    }
}
