//! A build's status: the spec's `builds_status` PostgreSQL enum (Inquiry, Proposal Sent,
//! Booked, Completed) as a Rust enum. It reads and binds as that type, shows and serializes as
//! the same words, so statuses are compared as values, never as strings.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, Serialize, Deserialize)]
#[sqlx(type_name = "builds_status")]
pub enum BuildStatus {
    Inquiry,
    #[sqlx(rename = "Proposal Sent")]
    #[serde(rename = "Proposal Sent")]
    ProposalSent,
    Booked,
    Completed,
}

impl BuildStatus {
    /// Every status, in the order of the PostgreSQL enum.
    pub const ALL: [BuildStatus; 4] = [
        BuildStatus::Inquiry,
        BuildStatus::ProposalSent,
        BuildStatus::Booked,
        BuildStatus::Completed,
    ];

    /// The status as the database and the pages spell it, e.g. "Proposal Sent".
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Inquiry => "Inquiry",
            BuildStatus::ProposalSent => "Proposal Sent",
            BuildStatus::Booked => "Booked",
            BuildStatus::Completed => "Completed",
        }
    }
}

/// The database's words back into a status ("Proposal Sent" -> `ProposalSent`).
impl FromStr for BuildStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<BuildStatus, String> {
        BuildStatus::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a build status"))
    }
}

impl fmt::Display for BuildStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_shows_and_serializes_as_the_databases_words() {
        for s in BuildStatus::ALL {
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(json, serde_json::Value::from(s.as_str()));
            assert_eq!(serde_json::from_value::<BuildStatus>(json).unwrap(), s);
            assert_eq!(s.as_str().parse::<BuildStatus>(), Ok(s));
        }
        assert_eq!(BuildStatus::ProposalSent.to_string(), "Proposal Sent");
        assert!("ProposalSent".parse::<BuildStatus>().is_err());
    }
}
