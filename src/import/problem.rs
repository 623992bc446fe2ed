//! What can be wrong with a file, a record or a field, with what a sentence about it needs. A
//! problem reads (`Display`) as the CLI's sentence; values in it are already shortened.

use std::fmt;

use serde_json::Value;

use crate::money::BadPrice;
use crate::store::catalog::Field;

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    NoProducts,
    NoEntries,
    /// A Markdown file with no `#` or `##` heading.
    NoHeadings,
    /// The CSV reader's own error.
    UnreadableCsv(String),
    /// A CSV row with another number of fields than its header.
    FieldCount {
        expected: usize,
        found: usize,
    },
    /// A CSV header naming a column twice.
    ColumnTwice(String),
    /// A catalog CSV header without these required columns; `found` is the header.
    NoColumns {
        missing: Vec<&'static str>,
        found: String,
    },
    /// A value under a column (counted from 1) the header does not name.
    UnnamedColumn {
        column: usize,
        value: String,
    },
    /// A knowledge CSV header without `question` and `answer`.
    NoQuestionAnswer {
        found: String,
    },
    /// JSON that does not parse: where on the line, and the parser's words.
    Json {
        column: usize,
        detail: String,
    },
    /// A JSON file that is not an array.
    NotAnArray(JsonKind),
    /// An array element or JSONL line that is not an object.
    NotAnObject(JsonKind),
    GivenTwice(Field),
    UnnamedKey,
    NotText {
        field: Field,
        kind: JsonKind,
    },
    /// An attribute holding a list with a list or object in it.
    NestedList(String),
    /// An attribute holding an object.
    NestedObject(String),
    /// A sku with a line break or another control character.
    ControlInSku(String),
    TooLong {
        field: Field,
        value: String,
        chars: usize,
        limit: usize,
    },
    Missing(Field),
    DuplicateSku {
        sku: String,
        first: usize,
    },
    Currency(String),
    Price(BadPrice),
    /// A price-like field given as JSON that is not a number (`true`, a list).
    NotAPrice {
        field: Field,
        value: String,
    },
    Url(String),
    Image(String),
    /// A rating that is not a plain number.
    Rating(String),
    /// A rating outside 0–5, as written.
    RatingRange(String),
    /// A Markdown heading with no title.
    EmptyHeading,
    /// A heading with nothing under it.
    NoText(String),
    MissingQuestion,
    MissingAnswer,
    DuplicateTitle {
        title: String,
        first: usize,
    },
}

/// What a JSON value is, where another was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    Number,
    Text,
    List,
    Object,
}

impl JsonKind {
    pub fn of(value: &Value) -> JsonKind {
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::Text,
            Value::Array(_) => JsonKind::List,
            Value::Object(_) => JsonKind::Object,
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "true/false",
            JsonKind::Number => "a number",
            JsonKind::Text => "text",
            JsonKind::List => "a list",
            JsonKind::Object => "an object",
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoProducts => f.write_str("the file has no products"),
            Problem::NoEntries => f.write_str("the file has no entries"),
            Problem::NoHeadings => f.write_str(
                "the file has no headings: start each entry with a line like \"## Question\"",
            ),
            Problem::UnreadableCsv(e) => write!(f, "unreadable CSV: {e}"),
            Problem::FieldCount { expected, found } => write!(
                f,
                "expected {expected} fields as in the header, found {found} (a value with a comma must be in double quotes)"
            ),
            Problem::ColumnTwice(name) => {
                write!(f, "column {name:?} appears twice in the header")
            }
            Problem::NoColumns { missing, found } => {
                let missing: Vec<String> = missing.iter().map(|m| format!("{m:?}")).collect();
                write!(
                    f,
                    "the header has no {} column; the first line must name the columns, e.g. sku,title,price (found: {found})",
                    missing.join(" or ")
                )
            }
            Problem::UnnamedColumn { column, value } => write!(
                f,
                "column {column} has the value {value:?} but no name in the header"
            ),
            Problem::NoQuestionAnswer { found } => write!(
                f,
                "the header needs \"question\" and \"answer\" columns (found: {found})"
            ),
            Problem::Json { column, detail } => {
                write!(f, "invalid JSON at column {column}: {detail}")
            }
            Problem::NotAnArray(kind) => write!(
                f,
                "expected a JSON array of products like [{{\"sku\": …}}], found {kind}"
            ),
            Problem::NotAnObject(kind) => write!(f, "expected a product object, found {kind}"),
            Problem::GivenTwice(field) => write!(f, "{} is given twice", field.name()),
            Problem::UnnamedKey => f.write_str("a key has no name"),
            Problem::NotText { field, kind } => {
                write!(f, "{} must be text, not {kind}", field.name())
            }
            Problem::NestedList(key) => write!(
                f,
                "attribute {key:?} holds a nested list or object: use a list of plain values"
            ),
            Problem::NestedObject(key) => write!(
                f,
                "attribute {key:?} is an object: nested objects are not supported, use flat keys or text"
            ),
            Problem::ControlInSku(sku) => {
                write!(f, "sku {sku:?} contains a line break or control character")
            }
            Problem::TooLong {
                field,
                value,
                chars,
                limit,
            } => write!(
                f,
                "{} {value:?} is too long: {chars} characters (at most {limit})",
                field.name()
            ),
            Problem::Missing(field) => write!(f, "missing {}", field.name()),
            Problem::DuplicateSku { sku, first } => {
                write!(f, "duplicate sku {sku:?} (first on line {first})")
            }
            Problem::Currency(code) => write!(
                f,
                "invalid currency {code:?}: use a 3-letter ISO 4217 code (e.g. USD)"
            ),
            Problem::Price(bad) => write!(f, "{bad}"),
            Problem::NotAPrice { field, value } => write!(
                f,
                "invalid {} {value:?}: use a number like 49.90",
                field.name()
            ),
            Problem::Url(url) => write!(f, "invalid url {url:?}: use an absolute http(s) URL"),
            Problem::Image(image) => write!(
                f,
                "invalid image {image:?}: use an absolute http(s) URL or a path starting with \"/\""
            ),
            Problem::Rating(text) => write!(
                f,
                "invalid rating {text:?}: use a number from 0 to 5 (e.g. 4.5)"
            ),
            Problem::RatingRange(written) => write!(f, "rating {written} is out of range 0-5"),
            Problem::EmptyHeading => f.write_str("a heading has no text"),
            Problem::NoText(title) => write!(f, "heading {title:?} has no text under it"),
            Problem::MissingQuestion => f.write_str("missing question"),
            Problem::MissingAnswer => f.write_str("missing answer"),
            Problem::DuplicateTitle { title, first } => {
                write!(f, "duplicate title {title:?} (first on line {first})")
            }
        }
    }
}
