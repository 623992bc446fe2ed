//! Words and stems: one tokenizer for what the catalog and the kb index and for what visitors ask,
//! so that "палатку" finds "Палатка" and "grinders" finds "Grinder".

use std::collections::HashSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Lowercased words of `text` (Unicode letters/digits; splits on everything else; "ё" → "е";
/// keeps digit-letter tokens like "2p" or "58mm").
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                word.push(if l == 'ё' { 'е' } else { l });
            }
        } else if !word.is_empty() && is_inside_word_mark(c) {
            // Decomposed "й" (и + breve) is a letter of its own; other marks ("ё" as е + diaeresis,
            // accents, soft hyphens) are dropped without splitting the word.
            if c == '\u{306}' && word.ends_with('и') {
                word.pop();
                word.push('й');
            }
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Combining diacritics and the soft hyphen: they belong to the letter before them.
fn is_inside_word_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{ad}')
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{52f}')
}

/// The Snowball stem of one lowercased word, choosing the Russian stemmer for Cyrillic words and
/// the English one otherwise. Digits-only words are returned unchanged.
pub fn stem(word: &str) -> String {
    let algorithm = if word.chars().any(is_cyrillic) {
        Algorithm::Russian
    } else if word.chars().any(char::is_alphabetic) {
        Algorithm::English
    } else {
        // Digits only (or empty): "2", "2024" stay what they are.
        return word.to_string();
    };
    Stemmer::create(algorithm).stem(word).into_owned()
}

/// Stems of the words of `text` minus stop words: articles, pronouns, prepositions, auxiliaries and
/// the words shoppers wrap around what they want ("please", "show", "need", "покажите", "хочу",
/// "нужна"...). Product words and numbers are kept.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(&w))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The text stored for full-text indexing: `terms(text)` joined by spaces, keeping duplicates out.
pub fn search_text(text: &str) -> String {
    let mut seen = HashSet::new();
    let mut out = String::new();
    for term in terms(text) {
        if seen.insert(term.clone()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&term);
        }
    }
    out
}

/// Whether a lowercased word (as `words` returns it) carries nothing to search for.
fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(word)
}

static STOP_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    ENGLISH_STOP_WORDS
        .split_whitespace()
        .chain(RUSSIAN_STOP_WORDS.split_whitespace())
        .collect()
});

/// Function words and the phrases shoppers wrap around a request: articles, quantifiers,
/// pronouns, question words (questions are detected before stop words are dropped),
/// prepositions, conjunctions, auxiliaries with their contraction fragments ("don't" is split
/// into "don" + "t", "I'm" into "i" + "m"), "please", "show", "find", "need", "want", "buy",
/// "good", "best"... Deliberately absent: anything that names a product or a property ("case",
/// "set", "top", "light", "down", "max", "one", sizes) and the FAQ's own vocabulary ("order",
/// "return", "delivery", "price", "stock").
const ENGLISH_STOP_WORDS: &str = "\
    a an the this that these those some any all each every another other such much many more \
    most less least few lot lots very really just also too only even quite rather so i me my \
    mine myself we us our ours you your yours he him his she her hers it its they them their \
    theirs something anything someone anyone everything nothing there here what which who \
    whom whose when where why how of in on at to for with without by from about into onto \
    over under above below between within than then up out per via and or but if as because \
    while until till not no nor yes am is are was were be been being do does did doing have \
    has had having can could will would shall should may might must don doesn didn isn aren \
    wasn weren haven hasn won wouldn couldn shouldn s t d ll ve re im ive dont cant please \
    pls plz show see find search searching look looking need needs want wanted wanna like \
    get got give buy buying purchase recommend suggest sell selling available kind sort hey \
    ok okay thing things cost costs good best nice great decent m";

/// The Russian counterpart, written with "е" for "ё" as `words` folds it. "стоит" is here
/// because its stem "сто" would match "сто" (a hundred).
const RUSSIAN_STOP_WORDS: &str = "\
    я меня мне мной мы нас нам нами ты тебя тебе тобой вы вас вам вами он его ему им нем она \
    ее ей ней оно они их ими них мой моя мое мои моего моей твой ваш ваша ваше ваши вашего \
    вашей наш наша наше наши свой своя свое свои это этот эта эти этого этой этих тот та то \
    те того той тех такой такая такое такие весь вся все всех что чем чего кто какой какая \
    какое какие какую каких каком который которая которое которые нибудь либо кое как где \
    когда куда откуда почему зачем сколько ли в во на с со к ко по за из изо у о об обо от \
    до для при про над под без между через около и или а но же бы не ни да нет вот ну так \
    там тут здесь уже еще тоже также очень просто только более менее больше меньше есть был \
    была было были быть будет будут можно нужно надо нужен нужна нужны могу можете может \
    пожалуйста плиз покажите покажи показать найдите найди найти подскажите подскажи \
    посоветуйте посоветуй порекомендуйте ищу ищем искать хочу хочется хотел хотела хотелось \
    хотим интересует интересуют купить куплю взять возьму имеется имеются наличии ок стоит \
    стоят стоить хороший хорошая хорошее хорошие хорошую хорошего лучший лучшая лучшее лучшие \
    лучшую";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_lowercase_and_split_on_everything_but_letters_and_digits() {
        assert_eq!(words("Hello, World!"), ["hello", "world"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("4-season tent"), ["4", "season", "tent"]);
        assert_eq!(words("don't"), ["don", "t"]);
        assert_eq!(words("a/b_c.d"), ["a", "b", "c", "d"]);
        assert_eq!(words("🏕️ tent 🏕️"), ["tent"]);
    }

    #[test]
    fn words_fold_yo_and_keep_cyrillic() {
        assert_eq!(words("Ёлка"), ["елка"]);
        assert_eq!(words("ЁЖИК ёжик"), ["ежик", "ежик"]);
        assert_eq!(words("Палатка, 2-местная"), ["палатка", "2", "местная"]);
    }

    #[test]
    fn words_keep_decomposed_letters_whole() {
        // "й" written as "и" + combining breve, "ё" as "е" + combining diaeresis.
        assert_eq!(words("чаи\u{306}ник"), ["чайник"]);
        assert_eq!(words("е\u{308}лка"), ["елка"]);
        assert_eq!(words("cafe\u{301} au lait"), ["cafe", "au", "lait"]);
        assert_eq!(words("sleep\u{ad}ing"), ["sleeping"]);
        // A mark with no letter before it is not a word.
        assert_eq!(words("\u{301} x"), ["x"]);
    }

    #[test]
    fn words_keep_digit_letter_tokens() {
        assert_eq!(
            words("2P tent, 58mm grinder"),
            ["2p", "tent", "58mm", "grinder"]
        );
        assert_eq!(words("4x4 10,000 49.90"), ["4x4", "10", "000", "49", "90"]);
    }

    #[test]
    fn stem_picks_the_language_by_script() {
        assert_eq!(stem("tents"), "tent");
        assert_eq!(stem("grinders"), "grinder");
        assert_eq!(stem("sleeping"), "sleep");
        assert_eq!(stem("палатку"), "палатк");
        assert_eq!(stem("кофемолки"), "кофемолк");
    }

    #[test]
    fn stem_leaves_numbers_and_odd_words_alone() {
        assert_eq!(stem("2"), "2");
        assert_eq!(stem("15000"), "15000");
        assert_eq!(stem("58mm"), "58mm");
        assert_eq!(stem(""), "");
        assert_eq!(stem("日本"), "日本");
        assert_eq!(stem("٣"), "٣");
    }

    #[test]
    fn terms_match_across_inflections() {
        assert_eq!(terms("палатку"), terms("палатки"));
        assert_eq!(terms("палатки"), terms("палатка"));
        assert_eq!(terms("grinders"), terms("grinder"));
        assert_eq!(terms("Кофемолки"), terms("кофемолка"));
        assert_eq!(terms("tents"), terms("tent"));
        assert_eq!(terms("Sleeping Bags"), terms("sleeping bag"));
        assert_eq!(terms("Ёлка"), terms("елка"));
        assert_eq!(terms("палатка"), ["палатк"]);
    }

    #[test]
    fn terms_drop_the_wrapping_and_keep_products_and_numbers() {
        assert_eq!(terms("Please show me a tent for 2"), ["tent", "2"]);
        assert_eq!(terms("I need the 58mm grinder"), ["58mm", "grinder"]);
        assert_eq!(terms("покажите, пожалуйста, палатку"), ["палатк"]);
        assert_eq!(
            terms("хочу палатку на 2 человека"),
            ["палатк", "2", "человек"]
        );
        assert_eq!(terms("нужна кофемолка"), ["кофемолк"]);
        assert_eq!(terms("What is your return policy?"), ["return", "polici"]);
        assert_eq!(terms("сколько стоит доставка"), ["доставк"]);
        assert_eq!(terms("the a an и в на"), Vec::<String>::new());
    }

    #[test]
    fn terms_keep_words_that_name_products() {
        for word in [
            "case", "set", "top", "light", "max", "one", "order", "price", "stock",
        ] {
            assert_eq!(terms(word).len(), 1, "{word} must stay searchable");
        }
    }

    #[test]
    fn stop_words_are_written_as_words_returns_them() {
        for w in STOP_WORDS.iter() {
            assert_eq!(words(w), [*w], "stop word {w:?} can never match");
        }
    }

    #[test]
    fn search_text_joins_unique_terms() {
        assert_eq!(search_text("Tent, tents and more TENTS"), "tent");
        assert_eq!(
            search_text("Палатка туристическая 2-местная, палатки"),
            "палатк туристическ 2 местн"
        );
        assert_eq!(search_text(""), "");
        assert_eq!(search_text("the and"), "");
    }

    #[test]
    fn nasty_input_does_not_panic() {
        let long_digits = "9".repeat(10_000);
        let nasty = [
            "",
            "!!!???...",
            "👋🏕️🔥",
            long_digits.as_str(),
            "мixed Sкрипт",
            "\u{0}\u{fffd}\u{200b}",
            "ǅ ß İ ﬁ",
        ];
        for text in nasty {
            let _ = search_text(text);
        }
        assert_eq!(terms(&long_digits), [long_digits.as_str()]);
        // Uppercase expansions ("İ" lowercases to two chars) stay one word.
        assert_eq!(words("İstanbul").len(), 1);
    }
}
