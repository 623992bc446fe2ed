//! What a message wants: a greeting, thanks, a person, or (anything else) a search; and the
//! greetings and thanks said around a request.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::tokens::{Kind, Token, word_at};
use super::{Intent, word_set};
use crate::text;

pub(super) static GREETING_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "hi hii hello helo hey heya hiya howdy hallo hola yo greetings morning afternoon \
        evening привет приветик приветствую здравствуйте здраствуйте здравствуй здрасте здрасьте \
        хай салют добрый доброе доброй доброго",
    )
});

/// Words that greet only together with a time of day.
static GOOD_WORDS: LazyLock<HashSet<&str>> =
    LazyLock::new(|| word_set("good добрый доброе доброй доброго"));
static TIME_OF_DAY_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set("morning afternoon evening day night день утро утра вечер вечера дня ночи времени")
});

pub(super) static THANKS_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "thanks thank thx thanx ty tnx tysm bye goodbye cya cheers спасибо спасибки спс благодарю \
        благодарим пока прощайте свидания всего",
    )
});

/// Words that may surround a greeting or thanks without making it a request.
static SMALL_TALK_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "good there all everyone everybody guys folks team friend friends you ya u r are how \
        doing again dear so very much a lot lots for the your help ok okay great cool awesome \
        perfect nice see later have day night got it that s was helpful and i день дня утро утра \
        вечер вечера ночи времени суток всем вам тебе ребята друзья как дела вы ты еще снова \
        большое огромное за помощь ок хорошо отлично понятно ясно супер класс до хорошего и а \
        там",
    )
});

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

/// Who a visitor may ask for. Russian forms are matched by their stem-like prefix.
fn is_person_word(word: &str) -> bool {
    PERSON_WORDS.contains(word) || PERSON_PREFIXES.iter().any(|p| word.starts_with(p))
}

static PERSON_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "human humans person someone somebody anyone anybody agent agents operator operators \
        manager managers representative representatives rep staff support consultant specialist \
        employee people люди людьми",
    )
});

const PERSON_PREFIXES: &[&str] = &[
    "человек",
    "оператор",
    "менеджер",
    "консультант",
    "специалист",
    "сотрудник",
    "поддержк",
];

static CONTACT_VERBS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "talk talking speak speaking chat chatting connect transfer escalate reach contact call \
        поговорить говорить поговорю пообщаться общаться связаться связать свяжите соедините \
        соединить позовите позови позвать переключите переключить переведите перевести вызовите \
        вызвать",
    )
});

/// Words that may surround a request for a person without making it a product search:
/// "a real human please", "дайте живого оператора".
static HUMAN_FILLER: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "help real live actual another bot robot дайте дай давайте живой живым живого живому \
        живая живую настоящий настоящим нормальный нормальным помогите помочь помощь бот бота \
        ботом робот роботом",
    )
});

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
            t.kind == Kind::Word && (greeting || THANKS_WORDS.contains(key) && key != "всего")
        })
        .collect();
    // "good morning", "добрый день", "доброго времени суток": only together are they chatter.
    for i in 0..tokens.len() {
        if word_at(tokens, i).is_some_and(|w| GOOD_WORDS.contains(w))
            && word_at(tokens, i + 1).is_some_and(|w| TIME_OF_DAY_WORDS.contains(w))
        {
            chatter[i] = true;
            chatter[i + 1] = true;
            if word_at(tokens, i + 1) == Some("времени") && word_at(tokens, i + 2) == Some("суток")
            {
                chatter[i + 2] = true;
            }
        }
    }
    chatter
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
