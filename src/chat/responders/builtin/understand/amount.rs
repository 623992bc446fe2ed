//! An amount of money: a number with its multiplier ("15k", "15 тыс") and currency ("$300",
//! "300 dollars", "15 т.р.").

use std::sync::LazyLock;

use super::tokens::{Kind, Token, word_at};
use super::words::{self, WordSet};

static CURRENCY_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.currency_words));
static CURRENCY_AFTER_NUMBER: WordSet = LazyLock::new(|| words::set(|w| w.currency_after_number));
static THOUSANDS: WordSet = LazyLock::new(|| words::set(|w| w.thousands));
static MILLIONS: WordSet = LazyLock::new(|| words::set(|w| w.millions));
static THOUSANDS_OF_MONEY: WordSet = LazyLock::new(|| words::set(|w| w.thousands_of_money));

/// A currency's name, before or after a number: "usd 300", "300 рублей".
pub(super) fn is_currency_word(word: &str) -> bool {
    CURRENCY_WORDS.contains(word)
}

/// A currency's name or abbreviation right after a number: "300 руб", "300 р.".
pub(super) fn is_currency_after_number(word: &str) -> bool {
    CURRENCY_AFTER_NUMBER.contains(word) || is_currency_word(word)
}

/// What a word after a number multiplies it by: "k", "тыс", "млн".
pub(super) fn multiplier(word: &str) -> Option<f64> {
    if THOUSANDS.contains(word) {
        Some(1_000.0)
    } else if MILLIONS.contains(word) {
        Some(1_000_000.0)
    } else {
        None
    }
}

/// A thousand in the currency as one word, glued to a number or not: "15тр".
pub(super) fn is_thousands_of_money(word: &str) -> bool {
    THOUSANDS_OF_MONEY.contains(word)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Value {
    pub(super) amount: f64,
    /// The multiplier written with the number: 1000 for "15k" and "15 тыс".
    pub(super) scale: f64,
    pub(super) currency: bool,
    /// The token after the value.
    pub(super) end: usize,
}

/// An amount of money at `i`: "300", "$300", "300 dollars", "15 тыс", "15 т.р.", "10 000 ₽".
pub(super) fn value_at(tokens: &[Token], i: usize) -> Option<Value> {
    let mut j = i;
    let mut currency = false;
    let token = tokens.get(j)?;
    if token.kind == Kind::Currency || token.kind == Kind::Word && is_currency_word(&token.key) {
        currency = true;
        j += 1;
    }
    let Kind::Number {
        value: mut amount,
        mut scale,
        currency: glued,
    } = tokens.get(j)?.kind
    else {
        return None;
    };
    currency |= glued;
    j += 1;
    if let Some(m) = word_at(tokens, j).and_then(multiplier) {
        amount *= m;
        scale *= m;
        j = skip_dot(tokens, j + 1);
    } else if let Some(end) = thousands_of_money_at(tokens, j) {
        // "15 т.р." is fifteen thousand roubles.
        amount *= 1000.0;
        scale *= 1000.0;
        currency = true;
        j = end;
    }
    let next = tokens.get(j);
    if next.is_some_and(|t| {
        t.kind == Kind::Currency || t.kind == Kind::Word && is_currency_after_number(&t.key)
    }) {
        currency = true;
        j = skip_dot(tokens, j + 1);
    }
    (amount.is_finite() && amount >= 0.0).then_some(Value {
        amount,
        scale,
        currency,
        end: j,
    })
}

/// A thousand in the currency at `i`, its dots written or not ("15 тр", "15 т.р.", "15 т р");
/// the index after it.
fn thousands_of_money_at(tokens: &[Token], i: usize) -> Option<usize> {
    THOUSANDS_OF_MONEY
        .iter()
        .filter_map(|written| {
            written
                .split('.')
                .filter(|part| !part.is_empty())
                .try_fold(i, |j, part| {
                    (word_at(tokens, j) == Some(part)).then(|| skip_dot(tokens, j + 1))
                })
        })
        .max()
}

fn skip_dot(tokens: &[Token], i: usize) -> usize {
    if tokens
        .get(i)
        .is_some_and(|t| t.kind == Kind::Symbol && t.key == ".")
    {
        i + 1
    } else {
        i
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn currency_alone_is_a_budget() {
        assert_max("tents $300", 300.0);
        assert_max("палатка 5000 рублей", 5000.0);
        assert_max("I have 300 dollars", 300.0);
        assert_no_price("$");
        assert_no_price("руб");
    }
}
