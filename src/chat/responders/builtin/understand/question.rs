//! Whether a message reads like a question: a question mark, a question word anywhere ("how",
//! "сколько"), or one that opens a clause ("Is there…", "Можно вернуть…").

use std::sync::LazyLock;

use super::intent::{GREETING_WORDS, THANKS_WORDS};
use super::price::cue_at;
use super::tokens::{Kind, Token};
use super::words::{self, WordSet};

static QUESTION_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.question_words));
static QUESTION_STARTERS: WordSet = LazyLock::new(|| words::set(|w| w.question_starters));
static CLAUSE_OPENERS: WordSet = LazyLock::new(|| words::set(|w| w.clause_openers));

const CLAUSE_BREAKS: &[&str] = &[".", "!", ",", ";", ":", "…", "(", ")"];

pub(super) fn is_question(tokens: &[Token]) -> bool {
    let mut clause_start = true;
    for (i, token) in tokens.iter().enumerate() {
        let key = token.key.as_str();
        match token.kind {
            Kind::Symbol if key == "?" => return true,
            Kind::Symbol if CLAUSE_BREAKS.contains(&key) => clause_start = true,
            Kind::Symbol => {}
            Kind::Word => {
                if QUESTION_WORDS.contains(key) {
                    return true;
                }
                if clause_start {
                    if CLAUSE_OPENERS.contains(key)
                        || GREETING_WORDS.contains(key)
                        || THANKS_WORDS.contains(key)
                    {
                        continue;
                    }
                    // "где-то 5000" is "about 5000", not "where": a word that opens a price cue
                    // does not ask.
                    if QUESTION_STARTERS.contains(key)
                        && cue_at(tokens, i, |w| w.leading_cues).is_none()
                    {
                        return true;
                    }
                }
                clause_start = false;
            }
            Kind::Number { .. } | Kind::Currency => clause_start = false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn questions() {
        for message in [
            "What is your return policy?",
            "what is your return policy",
            "сколько стоит доставка",
            "how do I return an item",
            "Is there free shipping",
            "do you ship to Canada",
            "can I pay by card",
            "можно вернуть товар",
            "есть ли доставка в Казань",
            "а где вы находитесь",
            "подскажите, как оформить возврат",
            "когда доставят заказ",
            "hi, when do you open",
            "shipping?",
            "доставка почему так долго",
        ] {
            assert!(understand(message).question, "{message:?} is a question");
        }
        for message in [
            "headlamp",
            "tents under $300",
            "I need a tent that is waterproof",
            "палатка где-то 5000",
            "Hi!",
            "покажите что-нибудь недорогое",
            "",
        ] {
            assert!(
                !understand(message).question,
                "{message:?} is not a question"
            );
        }
    }
}
