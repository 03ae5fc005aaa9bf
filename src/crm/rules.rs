//! Pure lead rules: which status moves are allowed, for a person and for the system.
use super::status::InquiryStatus::{self, *};

/// A change of an inquiry's status that someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// A person moves it (board, inquiry page, API): refused with the reason when not allowed.
    To(InquiryStatus),
    /// Its quote goes out as a proposal: a lead not yet sent one (New or Contacted) becomes
    /// Proposal Sent; any other status stays as it is.
    ProposalSent,
    /// Its quote is booked: an open inquiry becomes Booked (a lost or booked one is refused).
    Booking,
}

/// Inquiry status moves: New -> Contacted -> Proposal Sent -> Booked, or Closed-Lost from any
/// open state. Booked is reached only by booking. Err is the reason a person can read.
pub fn check_move(from: InquiryStatus, to: InquiryStatus) -> Result<(), String> {
    match (from, to) {
        (f, t) if f == t => Err(format!("the inquiry is already {f}")),
        (_, Booked) => Err("an inquiry becomes Booked only by booking its quote".into()),
        (Booked, _) => Err("a booked inquiry cannot change status".into()),
        (ClosedLost, _) => {
            Err("a lost inquiry stays closed; enter a new inquiry if the couple returns".into())
        }
        (New, Contacted) | (Contacted, ProposalSent) | (_, ClosedLost) => Ok(()),
        (f, t) => Err(format!(
            "an inquiry moves from {f} to {}, not to {t}",
            next(f).unwrap_or(ClosedLost)
        )),
    }
}

/// What `m` does to an inquiry that is `from`: Some(new status), None to leave it as it is,
/// or Err(the reason a person can read).
pub fn apply(from: InquiryStatus, m: Move) -> Result<Option<InquiryStatus>, String> {
    match m {
        Move::To(to) => check_move(from, to).map(|()| Some(to)),
        Move::ProposalSent => Ok(matches!(from, New | Contacted).then_some(ProposalSent)),
        Move::Booking => match from {
            Booked => Err("the inquiry is already booked".into()),
            ClosedLost => Err("the inquiry is closed as lost; reopen it as a new inquiry".into()),
            _ => Ok(Some(Booked)),
        },
    }
}

/// The next step forward, if any.
pub fn next(from: InquiryStatus) -> Option<InquiryStatus> {
    match from {
        New => Some(Contacted),
        Contacted => Some(ProposalSent),
        _ => None,
    }
}

/// The moves a person can make from here (for buttons).
pub fn moves(from: InquiryStatus) -> Vec<InquiryStatus> {
    InquiryStatus::ALL
        .into_iter()
        .filter(|&t| check_move(from, t).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_moves() {
        assert_eq!(moves(New), [Contacted, ClosedLost]);
        assert_eq!(moves(Contacted), [ProposalSent, ClosedLost]);
        assert_eq!(moves(ProposalSent), [ClosedLost]);
        assert!(moves(Booked).is_empty());
        assert!(moves(ClosedLost).is_empty());
    }

    #[test]
    fn illegal_moves_say_why() {
        let why = |from, to| check_move(from, to).unwrap_err();
        assert!(why(New, Booked).contains("only by booking"));
        assert!(why(New, ProposalSent).contains("from New to Contacted"));
        assert!(why(ProposalSent, Contacted).contains("not to Contacted"));
        assert!(why(ClosedLost, New).contains("stays closed"));
        assert!(why(Booked, ClosedLost).contains("cannot change"));
        assert!(why(New, New).contains("already"));
    }

    #[test]
    fn a_person_moves_only_as_the_rule_says() {
        assert_eq!(apply(New, Move::To(Contacted)), Ok(Some(Contacted)));
        assert!(apply(New, Move::To(ProposalSent)).is_err());
    }

    #[test]
    fn sending_a_proposal_moves_only_leads_not_yet_sent_one() {
        assert_eq!(apply(New, Move::ProposalSent), Ok(Some(ProposalSent)));
        assert_eq!(apply(Contacted, Move::ProposalSent), Ok(Some(ProposalSent)));
        for from in [ProposalSent, Booked, ClosedLost] {
            assert_eq!(apply(from, Move::ProposalSent), Ok(None), "{from}");
        }
    }
}
