//! What a message wants: a greeting, thanks, a person, or (anything else) a search; and the
//! greetings and thanks said around a request.

use std::sync::LazyLock;

use super::Intent;
use super::tokens::{Kind, Token, seq_at, word_at};
use super::words::{self, WordSet};
use crate::text;

pub(super) static GREETING_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.greetings));
pub(super) static THANKS_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.thanks));
static THANKS_ONLY_ALONE: WordSet = LazyLock::new(|| words::set(|w| w.thanks_only_alone));
static GOOD_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.good_words));
static TIME_OF_DAY_WORDS: WordSet =
    LazyLock::new(|| words::phrases(|w| w.times_of_day).copied().collect());
static SMALL_TALK_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.small_talk));
static PERSON_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.person_words));
static PERSON_PREFIXES: WordSet = LazyLock::new(|| words::set(|w| w.person_prefixes));
static CONTACT_VERBS: WordSet = LazyLock::new(|| words::set(|w| w.contact_verbs));
static HUMAN_FILLER: WordSet = LazyLock::new(|| words::set(|w| w.human_filler));

pub(super) fn intent(tokens: &[Token]) -> Intent {
    if wants_human(tokens) {
        return Intent::Human;
    }
    let (mut greeting, mut thanks) = (false, false);
    for token in tokens {
        let key = token.key.as_str();
        match token.kind {
            Kind::Word if GREETING_WORDS.contains(key) => greeting = true,
            Kind::Word if THANKS_WORDS.contains(key) => thanks = true,
            Kind::Word if SMALL_TALK_WORDS.contains(key) => {}
            Kind::Word | Kind::Number { .. } | Kind::Currency => return Intent::Search,
            Kind::Symbol if key == "👋" => greeting = true,
            Kind::Symbol if key == "🙏" => thanks = true,
            Kind::Symbol => {}
        }
    }
    if thanks {
        Intent::Thanks
    } else if greeting {
        Intent::Greeting
    } else {
        Intent::Search
    }
}

/// Whom a visitor may ask for; some words in any of their forms, matched by a prefix.
fn is_person_word(word: &str) -> bool {
    PERSON_WORDS.contains(word) || PERSON_PREFIXES.iter().any(|p| word.starts_with(p))
}

/// "talk to a human", "позовите оператора": a person and a way to reach them, or a person alone
/// ("operator please", "менеджер"). "2 person tent" and "палатка на 2 человека" are searches.
fn wants_human(tokens: &[Token]) -> bool {
    let (mut person, mut contact, mut other) = (false, false, false);
    for token in tokens {
        let key = token.key.as_str();
        match token.kind {
            Kind::Word if is_person_word(key) => person = true,
            Kind::Word if CONTACT_VERBS.contains(key) => contact = true,
            Kind::Word => {
                let filler = HUMAN_FILLER.contains(key)
                    || GREETING_WORDS.contains(key)
                    || THANKS_WORDS.contains(key)
                    || text::terms(key).is_empty();
                other |= !filler;
            }
            Kind::Number { .. } | Kind::Currency => other = true,
            Kind::Symbol => {}
        }
    }
    person && (contact || !other)
}

/// Greetings and thanks said around a request ("hi, any tents?", "добрый день, нужна палатка").
pub(super) fn chatter(tokens: &[Token]) -> Vec<bool> {
    let mut chatter: Vec<bool> = tokens
        .iter()
        .map(|t| {
            let key = t.key.as_str();
            let greeting = GREETING_WORDS.contains(key)
                && !GOOD_WORDS.contains(key)
                && !TIME_OF_DAY_WORDS.contains(key);
            let thanks = THANKS_WORDS.contains(key) && !THANKS_ONLY_ALONE.contains(key);
            t.kind == Kind::Word && (greeting || thanks)
        })
        .collect();
    // "good morning", "добрый день", "доброго времени суток": only together are they chatter.
    for i in 0..tokens.len() {
        if word_at(tokens, i).is_some_and(|w| GOOD_WORDS.contains(w))
            && let Some(end) = time_of_day_end(tokens, i + 1)
        {
            chatter[i..end].fill(true);
        }
    }
    chatter
}

/// The end of the longest time of day at `i`: "morning", "времени суток".
fn time_of_day_end(tokens: &[Token], i: usize) -> Option<usize> {
    words::phrases(|w| w.times_of_day)
        .filter_map(|time| seq_at(tokens, i, time))
        .max()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::text;

    #[test]
    fn greetings() {
        for message in [
            "Hi!",
            "hi",
            "Hello there",
            "hey 👋",
            "👋",
            "good morning",
            "Good evening everyone",
            "hi, how are you?",
            "Здравствуйте",
            "привет",
            "Добрый день!",
            "доброе утро",
            "Доброго времени суток",
        ] {
            assert_eq!(understand(message).intent, Intent::Greeting, "{message:?}");
        }
    }

    #[test]
    fn greeting_with_a_request_is_a_search() {
        let u = understand("hi, any tents?");
        assert_eq!(u.intent, Intent::Search);
        assert_eq!(u.terms, ["tent"]);

        let u = understand("hi, do you have tents under $200?");
        assert_eq!(u.intent, Intent::Search);
        assert_eq!(u.terms, ["tent"]);
        assert_eq!(u.max_price, Some(200.0));
        assert!(u.question);

        let u = understand("Добрый день, нужна палатка");
        assert_eq!(u.intent, Intent::Search);
        assert_eq!(u.terms, [text::stem("палатка")]);

        let u = understand("good morning, I need a day pack");
        assert_eq!(u.terms, ["day", "pack"]);

        for message in ["hello 5", "hi $", "how are you", "good", "ok"] {
            assert_eq!(understand(message).intent, Intent::Search, "{message:?}");
        }
    }

    #[test]
    fn thanks_and_goodbyes() {
        for message in [
            "thanks!",
            "thanks a lot",
            "Thank you so much for your help",
            "thx",
            "ok, thanks, bye",
            "спасибо",
            "Спасибо большое!",
            "пока",
            "до свидания",
            "всего доброго",
            "hi, thanks",
            "🙏",
        ] {
            assert_eq!(understand(message).intent, Intent::Thanks, "{message:?}");
        }
        let u = understand("thanks, and do you have tents?");
        assert_eq!(u.intent, Intent::Search);
        assert_eq!(u.terms, ["tent"]);
    }

    #[test]
    fn asking_for_a_human() {
        for message in [
            "I want to talk to a human",
            "talk to a human",
            "operator please",
            "can I speak to a manager",
            "Can I talk to a real person?",
            "connect me with support",
            "human!",
            "a live agent please",
            "позовите оператора",
            "хочу поговорить с человеком",
            "менеджер",
            "оператор",
            "нужен оператор",
            "дайте живого человека",
            "соедините с консультантом",
            "hi, can I chat with someone?",
        ] {
            assert_eq!(understand(message).intent, Intent::Human, "{message:?}");
        }
        for message in [
            "2 person tent",
            "нужна палатка на 2 человека",
            "cable manager",
            "human hair wig",
            "what are your support hours?",
            "палатка для 4 человек",
        ] {
            assert_eq!(understand(message).intent, Intent::Search, "{message:?}");
        }
    }
}
