//! The search terms a message leaves once its price phrase, currency and cheapness words, greetings
//! and stop words are taken out.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::amount::is_currency_word;
use super::intent::chatter;
use super::tokens::{Kind, Token};
use super::words::{self, WordSet};
use crate::text;

static PRICE_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.price_words));
static CHEAPNESS_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.cheapness_words));

pub(super) fn search_terms(tokens: &[Token], used: &[bool], priced: bool) -> Vec<String> {
    let chatter = chatter(tokens);
    let mut seen = HashSet::new();
    let mut terms: Vec<String> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if used.get(i) == Some(&true) || chatter.get(i) == Some(&true) {
            continue;
        }
        let found = match token.kind {
            Kind::Word if is_currency_word(&token.key) => continue,
            Kind::Word if priced && PRICE_WORDS.contains(token.key.as_str()) => continue,
            Kind::Word if CHEAPNESS_WORDS.contains(token.key.as_str()) => continue,
            Kind::Word => text::terms(&token.key),
            Kind::Number { .. } => text::terms(&token.raw),
            Kind::Currency | Kind::Symbol => continue,
        };
        for term in found {
            if seen.insert(term.clone()) {
                terms.push(term);
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::text;

    #[test]
    fn the_price_phrase_leaves_the_terms() {
        let u = understand("палатку до 15000 рублей");
        assert_eq!(u.terms, [text::stem("палатка")]);
        assert_eq!((u.min_price, u.max_price), (None, Some(15000.0)));

        let u = understand("кофемолки от 5000 до 10000");
        assert_eq!(u.terms, [text::stem("кофемолка")]);
        assert_eq!((u.min_price, u.max_price), (Some(5000.0), Some(10000.0)));

        let u = understand("grinders between 100 and 300");
        assert_eq!(u.terms, ["grinder"]);
        assert_eq!((u.min_price, u.max_price), (Some(100.0), Some(300.0)));

        let u = understand("tents under $300");
        assert_eq!(u.terms, ["tent"]);
        assert_eq!((u.min_price, u.max_price), (None, Some(300.0)));

        let u = understand("show me sleeping bags under 150 dollars please");
        assert_eq!(u.terms, stems(&["sleeping", "bags"]));
        assert_eq!(u.terms, ["sleep", "bag"]);
        assert_eq!((u.min_price, u.max_price), (None, Some(150.0)));

        let u = understand("кофемолка по цене не дороже 10 000 ₽");
        assert_eq!(u.terms, [text::stem("кофемолка")]);

        let u = understand("cheap tents, price under 50 euros");
        assert_eq!(u.terms, ["tent"]);
        assert_eq!(u.max_price, Some(50.0));

        let u = understand("my budget is around $300 for a tent");
        assert_eq!(u.terms, ["tent"]);
        assert_eq!((u.min_price, u.max_price), (Some(240.0), Some(360.0)));

        let u = understand("headlamp 100-200 usd");
        assert_eq!(u.terms, ["headlamp"]);

        let u = understand("cheapest tent");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["tent"]);
        assert_eq!(
            understand("а есть палатки подешевле?").terms,
            [text::stem("палатки")]
        );
    }

    #[test]
    fn price_words_stay_without_a_price() {
        // An FAQ about prices needs its words.
        let u = understand("do you price match?");
        assert_eq!(u.terms, ["price", "match"]);
        assert_eq!(u.intent, Intent::Search);
        // Currency words are never search terms.
        assert_eq!(understand("do you take dollars or euros").terms, ["take"]);
        // Cue words without a number are plain (stop) words.
        assert_eq!(understand("tents under").terms, ["tent"]);
        assert_no_price("палатка до");
        assert_no_price("between 100");
    }

    #[test]
    fn faq_terms_keep_the_subject() {
        assert_eq!(
            understand("What is your return policy?").terms,
            ["return", "polici"]
        );
        assert_eq!(
            understand("сколько стоит доставка").terms,
            [text::stem("доставка")]
        );
        assert_eq!(understand("headlamp").terms, ["headlamp"]);
    }

    #[test]
    fn terms_are_unique_and_in_order() {
        assert_eq!(
            understand("tents, tent, TENTS and grinders").terms,
            ["tent", "grinder"]
        );
    }
}
