//! What a visitor's message asks for: a greeting, thanks, a human, or a search of the catalog and
//! the FAQ, with the price bounds it names ("tents under $300", "палатку до 15 тыс").
//!
//! Pure and deterministic: the builtin responder calls it once per visitor message. The message is
//! cut into tokens (`tokens`, with `amount` reading money), then read for price phrases (`price`),
//! intent (`intent`), search terms (`terms`) and whether it asks (`question`), all by the word
//! lists in `words`, one file per language.

mod amount;
mod intent;
mod price;
mod question;
mod terms;
mod tokens;
mod words;

use self::intent::intent;
use self::price::find_prices;
use self::question::is_question;
use self::terms::search_terms;
use self::tokens::tokenize;

/// What the builtin responder reads from one visitor message.
#[derive(Debug, Clone, PartialEq)]
pub struct Understood {
    pub intent: Intent,
    /// Price bounds in MAJOR units (dollars, roubles) as written, inclusive.
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
    /// Stemmed search terms left after removing the price phrase, currency words and stop words.
    pub terms: Vec<String>,
    /// Whether the message reads like a question (for FAQ lookup).
    pub question: bool,
}

/// What the visitor wants from this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Only a greeting ("hi", "hello there", "good morning", "привет", "здравствуйте",
    /// "добрый день").
    Greeting,
    /// Only thanks/bye ("thanks!", "thank you", "спасибо", "пока").
    Thanks,
    /// Asks for a person ("talk to a human", "operator please", "позовите оператора", "менеджер").
    Human,
    /// Anything else: look in the catalog and the FAQ.
    Search,
}

/// Reads one visitor message: its intent, price bounds, search terms and whether it is a question.
pub fn understand(text: &str) -> Understood {
    let tokens = tokenize(text);
    let prices = find_prices(&tokens);
    let (min_price, max_price) = match (prices.min, prices.max) {
        (Some(low), Some(high)) if low > high => (Some(high), Some(low)),
        bounds => bounds,
    };
    let priced = min_price.is_some() || max_price.is_some();
    Understood {
        intent: intent(&tokens),
        min_price,
        max_price,
        terms: search_terms(&tokens, &prices.used, priced),
        question: is_question(&tokens),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn minimum_above_maximum_is_swapped() {
        assert_range("over 300 under 100", 100.0, 300.0);
        assert_range("от 10000 до 5000", 5000.0, 10000.0);
    }

    #[test]
    fn nasty_input_never_panics() {
        let digits = "9".repeat(10_000);
        let grouped = format!("under {}", "999 ".repeat(2_000));
        let nasty = [
            String::new(),
            "!!!???...,,,;;".to_string(),
            "🏕️🔥👋🙏".to_string(),
            digits.clone(),
            format!("under {digits}"),
            format!("under ${digits}.{digits}"),
            grouped,
            "mixed Скрипт 中文 عربى 2p".to_string(),
            "$".to_string(),
            "до".to_string(),
            "-5".to_string(),
            "1e309".to_string(),
            "under 1e309".to_string(),
            "under 999999999999999k".to_string(),
            "от".to_string(),
            "between and".to_string(),
            "$ $ $ 5 - - - to".to_string(),
            "100-".to_string(),
            "-".to_string(),
            "т.р.".to_string(),
            "5 т.".to_string(),
            "5 т".to_string(),
            ",5".to_string(),
            "5,".to_string(),
            "5.".to_string(),
            "10 00".to_string(),
            "10,00,000".to_string(),
            "где-".to_string(),
            "где".to_string(),
            "\u{301}\u{306}и\u{306}".to_string(),
            "\0\u{fffd}\u{200b}\u{feff}".to_string(),
            "٣٠٠ под ١٠٠".to_string(),
            "under ٣٠٠".to_string(),
        ];
        for message in &nasty {
            let u = understand(message);
            for bound in [u.min_price, u.max_price].into_iter().flatten() {
                assert!(
                    bound.is_finite() && bound >= 0.0,
                    "{message:?} gave {bound}"
                );
            }
            if let (Some(low), Some(high)) = (u.min_price, u.max_price) {
                assert!(low <= high, "{message:?}");
            }
        }
        assert_no_price(&format!("under {digits}"));
        assert_no_price("under 1e309");
        assert_no_price("-5");
        assert_eq!(understand("-5").terms, ["5"]);
        assert_eq!(understand("").intent, Intent::Search);
        assert!(understand("").terms.is_empty());
        assert!(understand("до").terms.is_empty());
    }

    #[test]
    fn every_prefix_of_a_tricky_message_is_understood() {
        // Cutting a message anywhere (as a half-typed or truncated message) must not panic.
        let message = "Hi! Палатку от 5 000 до 10 000 ₽, $1,299.99-ish, 1.5k, 15 т.р., 2-3 person?";
        let chars: Vec<char> = message.chars().collect();
        for end in 0..=chars.len() {
            let prefix: String = chars[..end].iter().collect();
            let _ = understand(&prefix);
        }
    }
}

#[cfg(test)]
mod testing {
    pub(super) use super::{Intent, understand};
    use crate::text;

    pub(super) fn stems(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| text::stem(w)).collect()
    }

    fn prices(message: &str) -> (Option<f64>, Option<f64>) {
        let u = understand(message);
        (u.min_price, u.max_price)
    }

    #[track_caller]
    pub(super) fn assert_max(message: &str, max: f64) {
        assert_eq!(prices(message), (None, Some(max)), "{message:?}");
    }

    #[track_caller]
    pub(super) fn assert_min(message: &str, min: f64) {
        assert_eq!(prices(message), (Some(min), None), "{message:?}");
    }

    #[track_caller]
    pub(super) fn assert_range(message: &str, min: f64, max: f64) {
        assert_eq!(prices(message), (Some(min), Some(max)), "{message:?}");
    }

    #[track_caller]
    pub(super) fn assert_no_price(message: &str) {
        assert_eq!(prices(message), (None, None), "{message:?}");
    }
}
