//! Questionnaire questions, pure: the kinds, a template's rules (`check`), the builder's edits
//! (add, change, move, remove), which questions show given the answers so far (`visible`:
//! "show if an earlier answer is X", the same rule in the portal and on the server), and each
//! answer checked by its kind (`parse_answer`) and the required ones on submission
//! (`check_submission`). No I/O.
use crate::error::{AppError, AppResult, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ShortText,
    LongText,
    Number,
    Date,
    Time,
    SingleChoice,
    MultipleChoice,
    File,
    /// A section heading: asks nothing.
    Heading,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::ShortText,
        Kind::LongText,
        Kind::Number,
        Kind::Date,
        Kind::Time,
        Kind::SingleChoice,
        Kind::MultipleChoice,
        Kind::File,
        Kind::Heading,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::ShortText => "short_text",
            Kind::LongText => "long_text",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::SingleChoice => "single_choice",
            Kind::MultipleChoice => "multiple_choice",
            Kind::File => "file",
            Kind::Heading => "heading",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::ShortText => "Short text",
            Kind::LongText => "Long text",
            Kind::Number => "Number",
            Kind::Date => "Date",
            Kind::Time => "Time",
            Kind::SingleChoice => "Single choice",
            Kind::MultipleChoice => "Multiple choice",
            Kind::File => "File upload",
            Kind::Heading => "Section heading",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn is_choice(self) -> bool {
        matches!(self, Kind::SingleChoice | Kind::MultipleChoice)
    }

    /// It takes an answer (a heading does not).
    pub fn asks(self) -> bool {
        self != Kind::Heading
    }
}

/// Show a question only when an earlier question's answer is `value` (for a multiple choice:
/// includes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShowIf {
    /// The earlier question's id.
    #[serde(deserialize_with = "crate::http::json::int")]
    pub question: i32,
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Question {
    /// Unique within its questionnaire (answers are kept by it).
    #[schema(minimum = 1, maximum = 100000)]
    #[serde(deserialize_with = "crate::http::json::int")]
    pub id: i32,
    pub kind: Kind,
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub label: String,
    /// A hint shown under the question.
    #[serde(default)]
    #[schema(max_length = 1000, pattern = r"^[^\x00]*$")]
    pub help: String,
    #[serde(default)]
    pub required: bool,
    /// The choices of a single or multiple choice question (1 to 50), none for the others.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub options: Vec<String>,
    #[serde(default)]
    pub show_if: Option<ShowIf>,
    /// The project field the answer fills in when the questionnaire is submitted
    /// (`GET /api/v1/project-fields` lists them).
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[a-z_]*$")]
    pub maps_to: Option<String>,
}

/// Answers by question id (as text): a text, or a list of texts for a multiple choice, or a
/// file's `{document, name}`.
pub type Answers = BTreeMap<String, Value>;

fn conflict(field: String, message: impl Into<String>) -> AppError {
    AppError::field_conflict(&field, message)
}

fn no_nul(s: &str) -> bool {
    !s.contains('\0')
}

/// A template's questions are consistent: ids unique and positive, a label each, choices for
/// (and only for) choice questions, no answer asked of a heading, conditions on an earlier
/// question that asks something (and, for a choice, one of its options), mapped fields known
/// (`fields`: the keys) and never on a heading or a file. A schema-valid list that breaks one
/// is a 409 naming `questions[i].what`.
pub fn check(questions: &[Question], fields: &[&str]) -> AppResult<()> {
    if questions.len() > 200 {
        return Err(conflict("questions".into(), "at most 200 questions"));
    }
    for (i, q) in questions.iter().enumerate() {
        let at = |what: &str| format!("questions[{i}].{what}");
        if q.id < 1 || q.id > 100_000 {
            return Err(conflict(at("id"), "an id from 1 to 100000"));
        }
        if questions[..i].iter().any(|p| p.id == q.id) {
            return Err(conflict(at("id"), format!("question id {} twice", q.id)));
        }
        let label = q.label.trim();
        if label.is_empty() || q.label.chars().count() > 500 || !no_nul(&q.label) {
            return Err(conflict(
                at("label"),
                "the question's words, up to 500 characters",
            ));
        }
        if q.help.chars().count() > 1000 || !no_nul(&q.help) {
            return Err(conflict(at("help"), "up to 1000 characters"));
        }
        if q.kind.is_choice() {
            if q.options.is_empty() || q.options.len() > 50 {
                return Err(conflict(at("options"), "1 to 50 choices"));
            }
            for (j, o) in q.options.iter().enumerate() {
                if o.trim().is_empty() || o.chars().count() > 200 || !no_nul(o) {
                    return Err(conflict(
                        at("options"),
                        "each choice has words, up to 200 characters",
                    ));
                }
                if q.options[..j].iter().any(|p| p.trim() == o.trim()) {
                    return Err(conflict(at("options"), format!("\"{o}\" twice")));
                }
            }
        } else if !q.options.is_empty() {
            return Err(conflict(
                at("options"),
                "only a choice question has choices",
            ));
        }
        if q.kind == Kind::Heading && q.required {
            return Err(conflict(at("required"), "a heading asks nothing"));
        }
        if let Some(s) = &q.show_if {
            let Some(source) = questions[..i].iter().find(|p| p.id == s.question) else {
                return Err(conflict(
                    at("show_if"),
                    "the condition names an earlier question",
                ));
            };
            if !source.kind.asks() || source.kind == Kind::File {
                return Err(conflict(
                    at("show_if"),
                    "the condition's question takes a typed answer or a choice",
                ));
            }
            if !no_nul(&s.value) || s.value.chars().count() > 500 || s.value.trim().is_empty() {
                return Err(conflict(at("show_if"), "the answer to compare with"));
            }
            if source.kind.is_choice() && !source.options.iter().any(|o| o == s.value.trim()) {
                return Err(conflict(
                    at("show_if"),
                    format!(
                        "\"{}\" is not one of the choices of \"{}\"",
                        s.value, source.label
                    ),
                ));
            }
        }
        if let Some(m) = &q.maps_to {
            if !fields.contains(&m.as_str()) {
                return Err(conflict(
                    at("maps_to"),
                    format!("one of: {}", fields.join(", ")),
                ));
            }
            if matches!(q.kind, Kind::Heading | Kind::File) {
                return Err(conflict(
                    at("maps_to"),
                    "a heading or a file fills in no field",
                ));
            }
        }
    }
    Ok(())
}

/// What the builder's form says about one question.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub kind: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    /// One choice a line.
    pub options: String,
    /// The earlier question's id, or empty.
    pub show_if_question: String,
    pub show_if_value: String,
    pub maps_to: String,
}

impl Draft {
    /// The question it describes, with this id.
    pub fn question(&self, id: i32) -> AppResult<Question> {
        let kind = Kind::parse(self.kind.trim())
            .ok_or_else(|| AppError::field("kind", "choose what the question asks for"))?;
        let options = if kind.is_choice() {
            self.options
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        } else {
            vec![]
        };
        let show_if = match self.show_if_question.trim() {
            "" => None,
            q => Some(ShowIf {
                question: q
                    .parse()
                    .map_err(|_| AppError::field("show_if_question", "an earlier question"))?,
                value: self.show_if_value.trim().to_string(),
            }),
        };
        let maps_to = Some(self.maps_to.trim().to_string()).filter(|m| !m.is_empty());
        Ok(Question {
            id,
            kind,
            label: self.label.trim().to_string(),
            help: self.help.trim().to_string(),
            required: self.required && kind.asks(),
            options,
            show_if,
            maps_to,
        })
    }
}

/// The next free question id.
pub fn next_id(questions: &[Question]) -> i32 {
    questions.iter().map(|q| q.id).max().unwrap_or(0) + 1
}

/// Move the question `id` one place up (`-1`) or down (`1`); a condition keeps pointing at an
/// earlier question (a move that would break one is refused by `check`).
pub fn moved(mut questions: Vec<Question>, id: i32, by: i32) -> AppResult<Vec<Question>> {
    let at = questions
        .iter()
        .position(|q| q.id == id)
        .ok_or_else(|| AppError::not_found("question"))?;
    let to = at as i64 + i64::from(by);
    if to < 0 || to >= questions.len() as i64 {
        return Ok(questions);
    }
    questions.swap(at, to as usize);
    Ok(questions)
}

/// Remove the question `id`; the conditions that named it go with it (those questions always
/// show).
pub fn removed(questions: Vec<Question>, id: i32) -> Vec<Question> {
    questions
        .into_iter()
        .filter(|q| q.id != id)
        .map(|mut q| {
            if q.show_if.as_ref().is_some_and(|s| s.question == id) {
                q.show_if = None;
            }
            q
        })
        .collect()
}

/// An answer as people read it: a list joined with commas, a file by its name.
pub fn text(answer: &Value) -> String {
    match answer {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(o) => o
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("a file")
            .to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether an answer matches a condition's value.
fn matches(answer: Option<&Value>, value: &str) -> bool {
    match answer {
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case(value.trim()),
        Some(Value::Array(items)) => items
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s == value.trim())),
        _ => false,
    }
}

/// Which questions show, in order: one without a condition always; one with a condition when
/// its question shows and its answer is the value.
pub fn visible(questions: &[Question], answers: &Answers) -> Vec<bool> {
    let mut shown: Vec<bool> = Vec::with_capacity(questions.len());
    for q in questions {
        let show = match &q.show_if {
            None => true,
            Some(s) => questions
                .iter()
                .position(|p| p.id == s.question)
                .filter(|&at| at < shown.len() && shown[at])
                .is_some_and(|_| matches(answers.get(&s.question.to_string()), &s.value)),
        };
        shown.push(show);
    }
    shown
}

/// The answers that count: those of questions that show (an answer to a hidden question is
/// kept as typed, in case it shows again, but ignored).
pub fn effective(questions: &[Question], answers: &Answers) -> Vec<(Question, Value)> {
    let shown = visible(questions, answers);
    questions
        .iter()
        .zip(shown)
        .filter(|(q, s)| *s && q.kind.asks())
        .filter_map(|(q, _)| {
            answers
                .get(&q.id.to_string())
                .map(|a| (q.clone(), a.clone()))
        })
        .collect()
}

/// The questions whose showing depends on `id`, directly or through another.
pub fn dependents(questions: &[Question], id: i32) -> Vec<i32> {
    let mut out: Vec<i32> = vec![];
    for q in questions {
        if let Some(s) = &q.show_if
            && (s.question == id || out.contains(&s.question))
        {
            out.push(q.id);
        }
    }
    out
}

/// One answer as typed (`values`: one text, or the ticked choices), checked by the question's
/// kind: `None` clears it. Refused with the field `answer`.
pub fn parse_answer(q: &Question, values: &[String]) -> AppResult<Option<Value>> {
    let bad = |m: String| AppError::field("answer", m);
    if q.kind == Kind::MultipleChoice {
        let mut picked: Vec<String> = vec![];
        for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            if !q.options.iter().any(|o| o == v) {
                return Err(bad(format!("\"{v}\" is not one of the choices")));
            }
            if !picked.iter().any(|p| p == v) {
                picked.push(v.to_string());
            }
        }
        // In the order of the choices.
        picked.sort_by_key(|p| q.options.iter().position(|o| o == p));
        return Ok((!picked.is_empty()).then(|| Value::from(picked)));
    }
    let v = values.first().map(|v| v.trim()).unwrap_or("");
    if v.is_empty() {
        return Ok(None);
    }
    if v.contains('\0') {
        return Err(bad(
            "the answer holds a character that cannot be kept".into()
        ));
    }
    let ok = match q.kind {
        Kind::ShortText => {
            if v.chars().count() > 500 {
                return Err(bad("up to 500 characters".into()));
            }
            v.to_string()
        }
        Kind::LongText => {
            if v.chars().count() > 10_000 {
                return Err(bad("up to 10,000 characters".into()));
            }
            v.to_string()
        }
        Kind::Number => {
            let n: rust_decimal::Decimal = v
                .replace(',', "")
                .parse()
                .map_err(|_| bad(format!("\"{v}\" is not a number")))?;
            if n.abs() > rust_decimal::Decimal::from(1_000_000_000) {
                return Err(bad("a number below a billion".into()));
            }
            n.normalize().to_string()
        }
        Kind::Date => crate::dates::parse(v).map_err(bad)?.to_string(),
        Kind::Time => chrono::NaiveTime::parse_from_str(v, "%H:%M")
            .map_err(|_| bad(format!("\"{v}\" is not a time; use HH:MM, e.g. 16:30")))?
            .format("%H:%M")
            .to_string(),
        Kind::SingleChoice => {
            if !q.options.iter().any(|o| o == v) {
                return Err(bad(format!("\"{v}\" is not one of the choices")));
            }
            v.to_string()
        }
        Kind::File | Kind::Heading | Kind::MultipleChoice => {
            return Err(bad("this question takes no typed answer".into()));
        }
    };
    Ok(Some(Value::from(ok)))
}

/// On submission: every question that shows and is required has an answer. The refusal names
/// each missing one as `q<id>`.
pub fn check_submission(questions: &[Question], answers: &Answers) -> AppResult<()> {
    let shown = visible(questions, answers);
    let errors: Vec<FieldError> = questions
        .iter()
        .zip(shown)
        .filter(|(q, s)| *s && q.required)
        .filter(|(q, _)| {
            answers
                .get(&q.id.to_string())
                .is_none_or(|a| text(a).trim().is_empty())
        })
        .map(|(q, _)| FieldError {
            field: format!("q{}", q.id),
            message: format!("\"{}\" needs an answer", q.label),
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(AppError::Validation {
        message: format!(
            "{} required question{} still need{} an answer",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            if errors.len() == 1 { "s" } else { "" }
        ),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: i32, kind: Kind, label: &str) -> Question {
        Question {
            id,
            kind,
            label: label.into(),
            help: String::new(),
            required: false,
            options: vec![],
            show_if: None,
            maps_to: None,
        }
    }

    fn choice(id: i32, label: &str, options: &[&str]) -> Question {
        Question {
            options: options.iter().map(|o| o.to_string()).collect(),
            ..q(id, Kind::SingleChoice, label)
        }
    }

    fn timeline() -> Vec<Question> {
        vec![
            q(1, Kind::Heading, "The day"),
            Question {
                required: true,
                maps_to: Some("ceremony_time".into()),
                ..q(2, Kind::Time, "Ceremony time")
            },
            choice(3, "First look?", &["Yes", "No"]),
            Question {
                required: true,
                show_if: Some(ShowIf {
                    question: 3,
                    value: "Yes".into(),
                }),
                ..q(4, Kind::ShortText, "Where is the first look?")
            },
            Question {
                show_if: Some(ShowIf {
                    question: 4,
                    value: "garden".into(),
                }),
                ..q(5, Kind::Number, "How many minutes in the garden?")
            },
        ]
    }

    const FIELDS: &[&str] = &["venue", "ceremony_time", "guest_count"];

    #[test]
    fn a_consistent_template_passes_and_each_inconsistency_names_its_field() {
        let t = timeline();
        check(&t, FIELDS).unwrap();
        let field = |qs: Vec<Question>| match check(&qs, FIELDS) {
            Err(AppError::FieldConflict { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let mut dup = t.clone();
        dup[4].id = 2;
        assert_eq!(field(dup), "questions[4].id");
        let mut no_options = t.clone();
        no_options[2].options.clear();
        assert_eq!(field(no_options), "questions[2].options");
        let mut later = t.clone();
        later.swap(2, 3);
        assert_eq!(field(later), "questions[2].show_if");
        let mut not_an_option = t.clone();
        not_an_option[3].show_if.as_mut().unwrap().value = "Maybe".into();
        assert_eq!(field(not_an_option), "questions[3].show_if");
        let mut unknown_field = t.clone();
        unknown_field[2].maps_to = Some("shoe_size".into());
        assert_eq!(field(unknown_field), "questions[2].maps_to");
        let mut heading_required = t.clone();
        heading_required[0].required = true;
        assert_eq!(field(heading_required), "questions[0].required");
        let mut nul = t;
        nul[1].label = "a\0b".into();
        assert_eq!(field(nul), "questions[1].label");
    }

    #[test]
    fn conditions_show_and_hide_questions_in_a_chain() {
        let t = timeline();
        let mut a = Answers::new();
        assert_eq!(visible(&t, &a), [true, true, true, false, false]);
        a.insert("3".into(), "Yes".into());
        assert_eq!(visible(&t, &a), [true, true, true, true, false]);
        a.insert("4".into(), "Garden".into());
        assert_eq!(visible(&t, &a), [true, true, true, true, true]);
        // Hiding the first hides the chain, though the answers stay.
        a.insert("3".into(), "No".into());
        assert_eq!(visible(&t, &a), [true, true, true, false, false]);
        assert_eq!(dependents(&t, 3), [4, 5]);
        let counted: Vec<i32> = effective(&t, &a).iter().map(|(q, _)| q.id).collect();
        assert_eq!(counted, [3]);
    }

    #[test]
    fn answers_are_checked_by_their_kind() {
        let t = timeline();
        let one = |q: &Question, v: &str| parse_answer(q, &[v.to_string()]);
        assert_eq!(one(&t[1], " 16:30 ").unwrap(), Some("16:30".into()));
        assert!(one(&t[1], "4.30pm").is_err());
        assert!(one(&t[1], "25:00").is_err());
        assert_eq!(one(&t[4], "1,250.50").unwrap(), Some("1250.5".into()));
        assert!(one(&t[4], "twelve").is_err());
        assert!(one(&t[4], "2000000000").is_err());
        assert_eq!(one(&t[2], "Yes").unwrap(), Some("Yes".into()));
        assert!(one(&t[2], "Maybe").is_err());
        assert_eq!(one(&t[2], "  ").unwrap(), None);
        let date = q(9, Kind::Date, "Rehearsal");
        assert_eq!(one(&date, "2027-06-12").unwrap(), Some("2027-06-12".into()));
        assert!(one(&date, "2027-02-30").is_err());
        assert!(one(&date, "0001-01-01").is_err());
        let many = Question {
            options: vec!["Drone".into(), "Toasts".into(), "Dances".into()],
            ..q(10, Kind::MultipleChoice, "Must-haves")
        };
        let picked = parse_answer(&many, &["Dances".into(), "Drone".into(), "Drone".into()]);
        assert_eq!(
            picked.unwrap(),
            Some(serde_json::json!(["Drone", "Dances"]))
        );
        assert!(parse_answer(&many, &["Fireworks".into()]).is_err());
        assert_eq!(parse_answer(&many, &[]).unwrap(), None);
        assert!(one(&q(11, Kind::ShortText, "x"), &"a".repeat(501)).is_err());
    }

    #[test]
    fn submission_needs_the_required_questions_that_show() {
        let t = timeline();
        let mut a = Answers::new();
        let missing = |a: &Answers| match check_submission(&t, a) {
            Err(AppError::Validation { errors, .. }) => {
                errors.into_iter().map(|e| e.field).collect::<Vec<_>>()
            }
            Ok(()) => vec![],
            other => panic!("{other:?}"),
        };
        assert_eq!(missing(&a), ["q2"]);
        a.insert("2".into(), "16:30".into());
        assert!(missing(&a).is_empty());
        a.insert("3".into(), "Yes".into());
        assert_eq!(missing(&a), ["q4"]);
        a.insert("3".into(), "No".into());
        assert!(
            missing(&a).is_empty(),
            "a hidden required question is not asked"
        );
    }

    #[test]
    fn builder_moves_and_removes() {
        let t = timeline();
        let down = moved(t.clone(), 1, 1).unwrap();
        assert_eq!(down[1].id, 1);
        assert_eq!(moved(t.clone(), 5, 1).unwrap(), t, "the last stays last");
        let gone = removed(t, 3);
        assert_eq!(gone.len(), 4);
        assert!(gone[2].show_if.is_none(), "its condition went with it");
        assert_eq!(next_id(&gone), 6);
    }
}
