//! An amount of money: a number with its multiplier ("15k", "15 тыс") and currency ("$300",
//! "300 dollars", "15 т.р.").

use std::collections::HashSet;
use std::sync::LazyLock;

use super::tokens::{Kind, Token, word_at};
use super::word_set;

static CURRENCY_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "usd dollar dollars buck bucks eur euro euros gbp rub rur ruble rubles rouble roubles руб \
        рубль рубля рублей рублях рублями рублям доллар доллара долларов долларах бакс бакса \
        баксов евро",
    )
});

/// A currency word; the lone "р" counts only right after a number ("300 р.").
pub(super) fn is_currency_word(word: &str) -> bool {
    CURRENCY_WORDS.contains(word)
}

pub(super) fn multiplier(word: &str) -> Option<f64> {
    match word {
        "k" | "к" | "тыс" | "тысяч" | "тысячи" | "тысяча" | "тыщ" | "тыщи" | "тыща"
        | "thousand" | "thousands" | "grand" => Some(1_000.0),
        "млн" | "миллион" | "миллиона" | "миллионов" | "million" | "millions" | "mln" => {
            Some(1_000_000.0)
        }
        _ => None,
    }
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
    } else if word_at(tokens, j) == Some("тр") {
        amount *= 1000.0;
        scale *= 1000.0;
        currency = true;
        j = skip_dot(tokens, j + 1);
    } else if word_at(tokens, j) == Some("т")
        && word_at(tokens, skip_dot(tokens, j + 1)) == Some("р")
    {
        // "15 т.р." is fifteen thousand roubles.
        amount *= 1000.0;
        scale *= 1000.0;
        currency = true;
        j = skip_dot(tokens, skip_dot(tokens, j + 1) + 1);
    }
    let next = tokens.get(j);
    if next.is_some_and(|t| {
        t.kind == Kind::Currency
            || t.kind == Kind::Word && (t.key == "р" || is_currency_word(&t.key))
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
