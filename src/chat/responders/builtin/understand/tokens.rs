//! A message cut into words, numbers as written ("10 000", "49,90", "1.5k", "300р"), currency
//! signs and other symbols.

use std::collections::HashSet;

use super::amount::{is_currency_after_number, is_thousands_of_money, multiplier};
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// A word as `text::words` returns it.
    Word,
    /// A number as written ("10 000", "49,90", "1.5k"), `scale` being its glued multiplier ("k");
    /// `currency` when a currency was glued to it ("300р", "5000руб").
    Number {
        value: f64,
        scale: f64,
        currency: bool,
    },
    /// $, €, ₽, £, ¥.
    Currency,
    /// Any other non-space character; dashes fold to "-", "≤" to "<", "≥" to ">", "≈" to "~".
    Symbol,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) kind: Kind,
    /// The normalised word or symbol; empty for numbers.
    pub(super) key: String,
    /// The text as written.
    pub(super) raw: String,
}

/// More digits than this is not a price anyone types, and would lose precision in an f64.
const MAX_NUMBER_DIGITS: usize = 15;

pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() {
            if c.is_ascii_digit()
                && let Some((token, next)) = number(&chars, i)
            {
                tokens.push(token);
                i = next;
                continue;
            }
            let end = word_end(&chars, i);
            let raw: String = chars[i..end].iter().collect();
            for word in text::words(&raw) {
                tokens.push(Token {
                    kind: Kind::Word,
                    key: word,
                    raw: raw.clone(),
                });
            }
            i = end;
        } else {
            tokens.push(symbol(c));
            i += 1;
        }
    }
    tokens
}

/// The end of the run of letters and digits (and the combining marks inside it) at `start`.
fn word_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while let Some(&c) = chars.get(end) {
        let mark = matches!(c, '\u{300}'..='\u{36f}' | '\u{ad}');
        if !(c.is_alphanumeric() || (mark && end > start)) {
            break;
        }
        end += 1;
    }
    end
}

fn digits_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while chars.get(end).is_some_and(char::is_ascii_digit) {
        end += 1;
    }
    end
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// A number starting at `start`: thousands groups ("10 000", "10,000"), a decimal part ("49.90",
/// "49,90") and a glued multiplier or currency ("1.5k", "300р"). `None` when the run is a word
/// rather than a number ("58mm", "4x4", "1e309") or too long to be a price.
fn number(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut pos = digits_end(chars, start);
    let mut integer: String = chars[start..pos].iter().collect();
    let mut fraction = String::new();
    if !chars.get(pos).is_some_and(|c| c.is_alphanumeric()) {
        // "10,000" and "10 000" are one number; "49,90" is 49.9. A group is exactly three digits
        // after a first group of one to three.
        let mut separator: Option<char> = None;
        if pos - start <= 3 {
            while let Some(&c) = chars.get(pos) {
                let class = if is_group_space(c) { ' ' } else { c };
                if !matches!(class, ',' | ' ' | '\'') || separator.is_some_and(|s| s != class) {
                    break;
                }
                let group_end = digits_end(chars, pos + 1);
                if group_end - (pos + 1) != 3 || glued_suffix(chars, group_end).is_none() {
                    break;
                }
                integer.extend(&chars[pos + 1..group_end]);
                separator = Some(class);
                pos = group_end;
                if integer.len() > MAX_NUMBER_DIGITS {
                    // Too long already; stopping here keeps a huge digit-group message linear.
                    return None;
                }
            }
        }
        if let Some(&c) = chars.get(pos)
            && (c == '.' || c == ',')
            && separator != Some(c)
        {
            let fraction_end = digits_end(chars, pos + 1);
            if fraction_end > pos + 1 && glued_suffix(chars, fraction_end).is_some() {
                fraction = chars[pos + 1..fraction_end].iter().collect();
                pos = fraction_end;
            }
        }
    }
    let (multiplier, currency, end) = glued_suffix(chars, pos)?;
    if integer.len() + fraction.len() > MAX_NUMBER_DIGITS {
        return None;
    }
    let written = if fraction.is_empty() {
        integer
    } else {
        format!("{integer}.{fraction}")
    };
    let value = written.parse::<f64>().ok()? * multiplier;
    if !value.is_finite() {
        return None;
    }
    let token = Token {
        kind: Kind::Number {
            value,
            scale: multiplier,
            currency,
        },
        key: String::new(),
        raw: chars[start..end].iter().collect(),
    };
    Some((token, end))
}

/// Letters glued to the end of a number: `(multiplier, currency, end)`; `None` when they make
/// the number a word ("58mm", "2p").
fn glued_suffix(chars: &[char], pos: usize) -> Option<(f64, bool, usize)> {
    if !chars.get(pos).is_some_and(|c| c.is_alphanumeric()) {
        return Some((1.0, false, pos));
    }
    let end = word_end(chars, pos);
    let suffix: String = text::words(&chars[pos..end].iter().collect::<String>()).concat();
    if suffix.chars().any(|c| c.is_numeric()) {
        None
    } else if let Some(multiplier) = multiplier(&suffix) {
        Some((multiplier, false, end))
    } else if is_thousands_of_money(&suffix) {
        Some((1000.0, true, end))
    } else if is_currency_after_number(&suffix) {
        Some((1.0, true, end))
    } else {
        None
    }
}

fn symbol(c: char) -> Token {
    let (kind, key) = match c {
        '$' | '€' | '₽' | '£' | '¥' => (Kind::Currency, c.to_string()),
        '-' | '‐' | '‑' | '‒' | '–' | '—' | '−' => (Kind::Symbol, "-".to_string()),
        '<' | '≤' | '⩽' | '＜' => (Kind::Symbol, "<".to_string()),
        '>' | '≥' | '⩾' | '＞' => (Kind::Symbol, ">".to_string()),
        '~' | '≈' | '∼' | '～' => (Kind::Symbol, "~".to_string()),
        '?' | '？' | '¿' => (Kind::Symbol, "?".to_string()),
        _ => (Kind::Symbol, c.to_string()),
    };
    Token {
        kind,
        key,
        raw: c.to_string(),
    }
}

/// The word at `i`, if a word is there.
pub(super) fn word_at(tokens: &[Token], i: usize) -> Option<&str> {
    tokens
        .get(i)
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.key.as_str())
}

/// Whether the word or symbol at `i` is one of `list`.
pub(super) fn is_listed_at(tokens: &[Token], i: usize, list: &HashSet<&str>) -> bool {
    tokens.get(i).is_some_and(|t| {
        matches!(t.kind, Kind::Word | Kind::Symbol) && list.contains(t.key.as_str())
    })
}

/// Whether the space-separated words/symbols of `seq` start at `i`; the index after them if so.
pub(super) fn seq_at(tokens: &[Token], i: usize, seq: &str) -> Option<usize> {
    let mut end = i;
    for expected in seq.split_whitespace() {
        let t = tokens.get(end)?;
        if !matches!(t.kind, Kind::Word | Kind::Symbol) || t.key != expected {
            return None;
        }
        end += 1;
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn numbers_are_read_as_written() {
        assert_max("under 10,000", 10000.0);
        assert_max("under 10 000", 10000.0);
        assert_max("до 15 000", 15000.0);
        assert_max("до 1 500 000", 1_500_000.0);
        assert_max("under 49.90", 49.9);
        assert_max("до 49,90", 49.9);
        assert_max("under $1,299.99", 1299.99);
        assert_max("до 1 000,50 ₽", 1000.5);
        assert_max("до 15\u{a0}000 ₽", 15000.0);
        assert_max("до 2 млн", 2_000_000.0);
    }
}
