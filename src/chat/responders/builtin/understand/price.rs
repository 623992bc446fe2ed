//! Price phrases: the bounds a message names with a cue before or after an amount ("under $300",
//! "5000 и дешевле"), a range ("100-300", "от 5 до 10 тыс") or an amount of money alone.

use std::sync::LazyLock;

use super::amount::value_at;
use super::tokens::{Kind, Token, is_listed_at, seq_at, word_at};
use super::words::{self, Cue, WordSet, Words};

static PLUS_CUES: WordSet = LazyLock::new(|| words::set(|w| w.plus_cues));
static NAME_CUES: WordSet = LazyLock::new(|| words::set(|w| w.name_cues));
static CUE_FILLER: WordSet = LazyLock::new(|| words::set(|w| w.cue_filler));
static SIZE_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.size_words));
static UNITS: WordSet = LazyLock::new(|| words::set(|w| w.units));

#[derive(Debug, Clone, Copy, PartialEq)]
struct Phrase {
    min: Option<f64>,
    max: Option<f64>,
    /// The token after the phrase.
    end: usize,
}

#[derive(Debug)]
pub(super) struct Prices {
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
    /// Tokens that belong to a price phrase.
    pub(super) used: Vec<bool>,
}

pub(super) fn find_prices(tokens: &[Token]) -> Prices {
    let mut prices = Prices {
        min: None,
        max: None,
        used: vec![false; tokens.len()],
    };
    let mut i = 0;
    while i < tokens.len() {
        match phrase_at(tokens, i) {
            Some(phrase) if phrase.end > i => {
                prices.used[i..phrase.end].fill(true);
                prices.min = phrase.min.or(prices.min);
                prices.max = phrase.max.or(prices.max);
                i = phrase.end;
            }
            _ => i += 1,
        }
    }
    prices
}

/// A price phrase starting at token `i`.
fn phrase_at(tokens: &[Token], i: usize) -> Option<Phrase> {
    if let Some((cue, after_cue)) = cue_at(tokens, i, |w| w.leading_cues)
        && !is_name_part(tokens, i)
    {
        let start = skip_cue_filler(tokens, after_cue);
        match range_at(tokens, start, true) {
            Range::Price(phrase) => return Some(phrase),
            Range::NotPrice => return None,
            Range::Absent => {}
        }
        if cue == Cue::Between {
            return None;
        }
        let value = value_at(tokens, start)?;
        if !value.currency
            && (is_unit_at(tokens, value.end) || cue == Cue::For && value.amount < 100.0)
        {
            return None;
        }
        let mut end = value.end;
        let direction = if matches!(cue, Cue::AtLeast | Cue::From) {
            Cue::AtLeast
        } else {
            Cue::AtMost
        };
        if let Some((trailing, after)) = cue_at(tokens, end, |w| w.trailing_cues)
            && trailing == direction
        {
            end = after;
        }
        let (min, max) = match cue {
            Cue::AtLeast | Cue::From => (Some(value.amount), None),
            Cue::Around => (
                Some(value.amount * 4.0 / 5.0),
                Some(value.amount * 6.0 / 5.0),
            ),
            Cue::AtMost | Cue::Budget | Cue::For | Cue::Between => (None, Some(value.amount)),
        };
        return Some(Phrase { min, max, end });
    }

    match range_at(tokens, i, false) {
        Range::Price(phrase) => return Some(phrase),
        Range::NotPrice => return None,
        Range::Absent => {}
    }
    let value = value_at(tokens, i)?;
    if let Some((cue, end)) = cue_at(tokens, value.end, |w| w.trailing_cues)
        && (value.currency || is_bare_number_cue(tokens, value.end, end))
    {
        let (min, max) = if cue == Cue::AtLeast {
            (Some(value.amount), None)
        } else {
            (None, Some(value.amount))
        };
        return Some(Phrase { min, max, end });
    }
    // "tents $300", "палатка за 5000 рублей": an amount of money alone is a budget.
    value.currency.then_some(Phrase {
        min: None,
        max: Some(value.amount),
        end: value.end,
    })
}

/// Whether the trailing cue between `cue` and `end` makes a bare number a price: "300 max" does,
/// "4 people max" and "2+ person" do not, and neither does "iPhone 14 Plus" ("+" and "plus" need
/// a currency: "$100+").
fn is_bare_number_cue(tokens: &[Token], cue: usize, end: usize) -> bool {
    let plus = is_listed_at(tokens, cue, &PLUS_CUES);
    !plus && !is_unit_at(tokens, cue) && !is_unit_at(tokens, end)
}

/// "Air Max 90": a capitalised name cue ("Max", "Min") right after another word is part of a
/// product name.
fn is_name_part(tokens: &[Token], i: usize) -> bool {
    let capitalised = tokens.get(i).is_some_and(|t| {
        NAME_CUES.contains(t.key.as_str()) && t.raw.starts_with(char::is_uppercase)
    });
    capitalised && i > 0 && word_at(tokens, i - 1).is_some()
}

fn skip_cue_filler(tokens: &[Token], mut i: usize) -> usize {
    while tokens
        .get(i)
        .is_some_and(|t| t.kind != Kind::Currency && CUE_FILLER.contains(&t.key.as_str()))
    {
        i += 1;
    }
    i
}

enum Range {
    Price(Phrase),
    /// Reads like a range of something else: "from 2 to 4 people", "2-3 person", "size 40-42".
    NotPrice,
    Absent,
}

/// "100-300", "$100 to $300"; after a cue also "100 and 300", "5000 до 10000", "5000 и 10000".
fn range_at(tokens: &[Token], i: usize, after_cue: bool) -> Range {
    let Some(low) = value_at(tokens, i) else {
        return Range::Absent;
    };
    let joiners: fn(&Words) -> &'static [&'static str] = if after_cue {
        |w| w.range_joiners
    } else {
        |w| w.bare_range_joiners
    };
    let Some(joined) = words::phrases(joiners)
        .filter_map(|seq| seq_at(tokens, low.end, seq))
        .max()
    else {
        return Range::Absent;
    };
    let Some(high) = value_at(tokens, joined) else {
        return Range::Absent;
    };
    let currency = low.currency || high.currency;
    if !currency {
        if is_unit_at(tokens, high.end) {
            return Range::NotPrice;
        }
        let size = i > 0 && word_at(tokens, i - 1).is_some_and(|w| SIZE_WORDS.contains(w));
        if !after_cue && (low.amount >= high.amount || high.amount < 10.0 || size) {
            return Range::NotPrice;
        }
    }
    // "от 5 до 10 тыс", "1-2k": the multiplier written once covers both ends.
    let mut low_amount = low.amount;
    if low.scale == 1.0 && high.scale > 1.0 && low.amount < high.amount / high.scale {
        low_amount *= high.scale;
    }
    Range::Price(Phrase {
        min: Some(low_amount),
        max: Some(high.amount),
        end: high.end,
    })
}

/// The longest of the `cues` (`|w| w.leading_cues` or `|w| w.trailing_cues`) that starts at `i`.
pub(super) fn cue_at(
    tokens: &[Token],
    i: usize,
    cues: fn(&Words) -> &'static [(&'static str, Cue)],
) -> Option<(Cue, usize)> {
    words::phrases(cues)
        .filter_map(|(seq, cue)| seq_at(tokens, i, seq).map(|end| (*cue, end)))
        .max_by_key(|(_, end)| *end)
}

fn is_unit_at(tokens: &[Token], i: usize) -> bool {
    is_listed_at(tokens, i, &UNITS)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn english_maximum_phrases() {
        for message in [
            "tents under $300",
            "tents under 300",
            "tents below 300",
            "tents less than 300 dollars",
            "tents cheaper than 300",
            "tents up to 300",
            "tents no more than 300",
            "tents max 300",
            "tents at most 300",
            "tents within 300",
            "tents <300",
            "tents < 300",
            "tents ≤ 300 usd",
            "tents under 300 bucks",
            "tents 300 or less",
            "tents $300 max",
            "tents not more than 300 USD",
            "tents for $300",
            "tents, budget of 300",
            "tents under 300 in stock",
        ] {
            assert_max(message, 300.0);
        }
        assert_max("under 1k", 1000.0);
        assert_max("under 1.5k", 1500.0);
        assert_max("under 1,5k", 1500.0);
        assert_max("under €49.90", 49.9);
        assert_max("under 2 grand", 2000.0);
    }

    #[test]
    fn english_minimum_phrases() {
        for message in [
            "tents over 100",
            "tents above 100",
            "tents more than 100",
            "tents at least 100",
            "tents from 100",
            "tents min 100",
            "tents >100",
            "tents $100+",
            "tents $100 and up",
            "tents 100 dollars or more",
            "tents more expensive than 100",
        ] {
            assert_min(message, 100.0);
        }
    }

    #[test]
    fn english_ranges() {
        for message in [
            "tents between 100 and 300",
            "tents between $100 and $300",
            "tents from 100 to 300",
            "tents 100-300",
            "tents 100 – 300",
            "tents 100—300 usd",
            "tents $100 to $300",
            "tents $100-$300",
            "tents from $100 - 300 dollars",
            "tents over 100 and under 300",
            "tents from 300 to 100",
        ] {
            assert_range(message, 100.0, 300.0);
        }
        assert_range("around 200", 160.0, 240.0);
        assert_range("about $200", 160.0, 240.0);
        assert_range("tents ~200", 160.0, 240.0);
    }

    #[test]
    fn russian_maximum_phrases() {
        assert_max("палатку до 15000 рублей", 15000.0);
        assert_max("дешевле 5000", 5000.0);
        assert_max("не дороже 10 000 ₽", 10000.0);
        assert_max("не больше 10000", 10000.0);
        assert_max("менее 10000 руб", 10000.0);
        assert_max("меньше 10000р", 10000.0);
        assert_max("в пределах 10000", 10000.0);
        assert_max("до 15 тыс", 15000.0);
        assert_max("до 15 тыс. руб.", 15000.0);
        assert_max("до 15к", 15000.0);
        assert_max("до 15 т.р.", 15000.0);
        assert_max("до 15 000 р.", 15000.0);
        assert_max("дешевле чем 5000", 5000.0);
        assert_max("палатка за 5000", 5000.0);
        assert_max("кофемолка 5000₽", 5000.0);
        assert_max("бюджет 7000", 7000.0);
        assert_max("до 1,5 тыс", 1500.0);
        assert_max("5000 и дешевле", 5000.0);
    }

    #[test]
    fn russian_minimum_phrases() {
        for message in [
            "от 5000",
            "дороже 5000",
            "больше 5000",
            "более 5000 рублей",
            "не меньше 5000",
            "не менее 5000",
            "не дешевле 5 000 ₽",
            "свыше 5000",
            "от 5 тыс",
            "5000 и выше",
        ] {
            assert_min(message, 5000.0);
        }
    }

    #[test]
    fn russian_ranges() {
        for message in [
            "от 5000 до 10000",
            "от 5 000 до 10 000 рублей",
            "между 5000 и 10000",
            "5000-10000",
            "5000 - 10000 ₽",
            "от 5 до 10 тыс",
            "от 5 до 10 т.р.",
            "5-10к",
            "в диапазоне 5000-10000",
        ] {
            assert_range(message, 5000.0, 10000.0);
        }
        // The multiplier covers the low end only when that reads as a range.
        assert_range("from 500 to 1k", 500.0, 1000.0);
        assert_range("100-1.5k", 100.0, 1500.0);
        assert_range("около 5000", 4000.0, 6000.0);
        assert_range("примерно 5000 рублей", 4000.0, 6000.0);
        assert_range("где-то 5000", 4000.0, 6000.0);
    }

    #[test]
    fn numbers_that_are_not_prices_stay_terms() {
        let u = understand("2 person tent");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["2", "person", "tent"]);

        let u = understand("58mm grinder");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["58mm", "grinder"]);

        let u = understand("4-season tent");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["4", "season", "tent"]);

        let u = understand("нужна палатка на 2 человека");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, stems(&["палатка", "2", "человека"]));
        assert!(u.terms.contains(&"2".to_string()));

        for message in [
            "tent up to 4 people",
            "палатка до 4 человек",
            "палатка от 2 до 4 человек",
            "tent for 2 to 3 persons",
            "2-3 person tent",
            "палатка 3-4 местная",
            "size 40-42",
            "discounts up to 50%",
            "спальник до -10 градусов",
            "спальник до -10°",
            "delivery in about 3 days",
            "laptop sleeve up to 15\"",
            "за 2 дня",
            "палатка за 2",
            "2+ person tent",
            "iPhone 14 Plus",
            "iphone 14+",
            "10 000",
            "tent 300",
        ] {
            assert_no_price(message);
        }
        assert_eq!(
            understand("палатка от 2 до 4 человек").terms,
            stems(&["палатка", "2", "4", "человек"])
        );
        assert_eq!(understand("10 000").terms, ["10", "000"]);
        assert_eq!(understand("size 40-42").terms, ["size", "40", "42"]);
    }

    #[test]
    fn a_capitalised_max_inside_a_name_is_not_a_cue() {
        let u = understand("Nike Air Max 90 under 150");
        assert_eq!(u.terms, ["nike", "air", "max", "90"]);
        assert_eq!((u.min_price, u.max_price), (None, Some(150.0)));
        assert_max("Max 300", 300.0);
        assert_max("tents. Max 300", 300.0);
        assert_max("tents max 300", 300.0);
    }
}
