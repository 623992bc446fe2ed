//! Whether a message reads like a question: a question mark, a question word anywhere ("how",
//! "сколько"), or one that opens a clause ("Is there…", "Можно вернуть…").

use std::collections::HashSet;
use std::sync::LazyLock;

use super::intent::{GREETING_WORDS, THANKS_WORDS};
use super::tokens::{Kind, Token, seq_at, word_at};
use super::word_set;

/// Question words that ask wherever they stand.
static QUESTION_ANYWHERE: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set("how what where why сколько почему зачем ли каков какова каково каковы")
});

/// Words that ask when they open a clause: "Is there…", "Можно вернуть…", "Есть доставка…".
static QUESTION_STARTERS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "when which who whom whose can could do does did is are was were will would should shall \
        may might have has had am isn aren don doesn didn won wouldn couldn shouldn как что \
        когда где куда откуда какой какая какое какие каким какую кто чем можно есть правда",
    )
});

/// Words that may come before the question word of a clause: "so how…", "а где…",
/// "подскажите, как…".
static CLAUSE_OPENERS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "so and but also ok okay well please then btw sorry excuse tell me а и но ну так еще \
        также скажите подскажите скажи подскажи пожалуйста извините простите",
    )
});

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
                // "где-то 5000" is "about 5000", not "where".
                let somewhere = key == "где"
                    && (word_at(tokens, i + 1) == Some("то")
                        || seq_at(tokens, i + 1, "- то").is_some());
                if QUESTION_ANYWHERE.contains(key) {
                    return true;
                }
                if clause_start {
                    if CLAUSE_OPENERS.contains(key)
                        || GREETING_WORDS.contains(key)
                        || THANKS_WORDS.contains(key)
                    {
                        continue;
                    }
                    if QUESTION_STARTERS.contains(key) && !somewhere {
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
