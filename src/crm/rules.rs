//! Pure lead rules: which status moves are allowed.

pub const STATUSES: [&str; 5] = ["New", "Contacted", "Proposal Sent", "Booked", "Closed-Lost"];

/// Inquiry status moves: New -> Contacted -> Proposal Sent -> Booked, or Closed-Lost from any
/// open state. Booked is reached only by booking. Err is the reason a person can read.
pub fn check_move(from: &str, to: &str) -> Result<(), String> {
    if !STATUSES.contains(&to) {
        return Err(format!(
            "\"{to}\" is not a status; use one of {}",
            STATUSES.join(", ")
        ));
    }
    match (from, to) {
        (f, t) if f == t => Err(format!("the inquiry is already {f}")),
        (_, "Booked") => Err("an inquiry becomes Booked only by booking its quote".into()),
        ("Booked", _) => Err("a booked inquiry cannot change status".into()),
        ("Closed-Lost", _) => {
            Err("a lost inquiry stays closed; enter a new inquiry if the couple returns".into())
        }
        ("New", "Contacted") | ("Contacted", "Proposal Sent") | (_, "Closed-Lost") => Ok(()),
        (f, t) => Err(format!(
            "an inquiry moves from {f} to {}, not to {t}",
            next(f).unwrap_or("Closed-Lost")
        )),
    }
}

/// The next step forward, if any.
pub fn next(from: &str) -> Option<&'static str> {
    match from {
        "New" => Some("Contacted"),
        "Contacted" => Some("Proposal Sent"),
        _ => None,
    }
}

/// The moves a person can make from here (for buttons).
pub fn moves(from: &str) -> Vec<&'static str> {
    STATUSES
        .iter()
        .copied()
        .filter(|t| check_move(from, t).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_moves() {
        assert_eq!(moves("New"), ["Contacted", "Closed-Lost"]);
        assert_eq!(moves("Contacted"), ["Proposal Sent", "Closed-Lost"]);
        assert_eq!(moves("Proposal Sent"), ["Closed-Lost"]);
        assert!(moves("Booked").is_empty());
        assert!(moves("Closed-Lost").is_empty());
    }

    #[test]
    fn illegal_moves_say_why() {
        assert!(
            check_move("New", "Booked")
                .unwrap_err()
                .contains("only by booking")
        );
        assert!(
            check_move("New", "Proposal Sent")
                .unwrap_err()
                .contains("from New to Contacted")
        );
        assert!(
            check_move("Proposal Sent", "Contacted")
                .unwrap_err()
                .contains("not to Contacted")
        );
        assert!(
            check_move("Closed-Lost", "New")
                .unwrap_err()
                .contains("stays closed")
        );
        assert!(check_move("New", "New").unwrap_err().contains("already"));
        assert!(
            check_move("New", "Lost")
                .unwrap_err()
                .contains("not a status")
        );
    }
}
