//! The words messages are read by: one `Words` value per language, and one for the symbols every
//! language writes the same way. A message may mix languages ("палатка under $300"), so each list
//! is read as one set made of every language's entries.
//!
//! A third language is one more file with its `Words` value and one more entry in [`LANGUAGES`].

mod en;
mod ru;
mod symbols;

use std::collections::HashSet;
use std::sync::LazyLock;

/// The languages messages are read in.
const LANGUAGES: &[&Words] = &[&en::EN, &ru::RU];

/// One language's words. A list of single words is one string of space-separated words; a list
/// whose entries may be phrases is a slice, each phrase written as the tokenizer cuts it ("где - то"
/// for "где-то"). Words are lowercase, with "е" for "ё".
pub(super) struct Words {
    // Price phrases
    /// Cues written before an amount: "under", "до". The longest match wins, so "не дороже" beats
    /// "дороже".
    pub(super) leading_cues: &'static [(&'static str, Cue)],
    /// Cues written after an amount: "$100 and up", "300 max", "5000 и дешевле".
    pub(super) trailing_cues: &'static [(&'static str, Cue)],
    /// Trailing cues that make a price only after a currency: "$100 plus", not "iPhone 14 Plus".
    pub(super) plus_cues: &'static str,
    /// Cues that, capitalised right after another word, are part of a product name: "Air Max 90".
    pub(super) name_cues: &'static str,
    /// Words between a cue and its amount: "дешевле чем 5000", "budget of $300", "budget: 300".
    pub(super) cue_filler: &'static str,
    /// What joins the two ends of a range after a cue: "between 100 and 300", "от 5000 до 10000".
    pub(super) range_joiners: &'static [&'static str],
    /// What joins a range with no cue before it: "100-300", "$100 to $300".
    pub(super) bare_range_joiners: &'static [&'static str],
    /// Words before a bare range that make it a size, not a price: "size 40-42".
    pub(super) size_words: &'static str,
    /// Words after a bare number that make it a count or a measure, not a price: "up to 4 people",
    /// "от 2 до 4 человек", "about 3 days", "до 50%".
    pub(super) units: &'static str,

    // Amounts
    /// Names of currencies, before or after a number: "300 dollars", "5000 рублей".
    pub(super) currency_words: &'static str,
    /// Currencies named only right after a number: "300 р.".
    pub(super) currency_after_number: &'static str,
    /// A thousand, after a number or glued to it: "15 тыс", "1.5k".
    pub(super) thousands: &'static str,
    /// A million: "2 млн".
    pub(super) millions: &'static str,
    /// A thousand in the currency ("15 тр", "15 т.р.": thousand roubles), written with the dots a
    /// message may leave out.
    pub(super) thousands_of_money: &'static str,

    // Search terms
    /// Words naming a price, which carry nothing to search for once the bounds are read
    /// ("палатка по цене до 5000") but are the subject of an FAQ without them ("do you price
    /// match?").
    pub(super) price_words: &'static str,
    /// Words about cheapness, never in a product's name: "cheap tents", "а есть дешевле?".
    pub(super) cheapness_words: &'static str,

    // Intent
    /// Greetings: "hi", "здравствуйте".
    pub(super) greetings: &'static str,
    /// Words that greet only together with a time of day: "good morning", "добрый день".
    pub(super) good_words: &'static str,
    /// Times of day after one of `good_words`, phrases among them: "доброго времени суток".
    pub(super) times_of_day: &'static [&'static str],
    /// Thanks and goodbyes: "thanks", "пока".
    pub(super) thanks: &'static str,
    /// Words of `thanks` that thank only in a message of their own ("всего доброго") and stay
    /// search words beside a request.
    pub(super) thanks_only_alone: &'static str,
    /// Words that may surround a greeting or thanks without making it a request.
    pub(super) small_talk: &'static str,
    /// Whom a visitor may ask for: "human", "operator", "люди".
    pub(super) person_words: &'static str,
    /// The same, for words whose forms are matched by a prefix: "оператор" for "оператора".
    pub(super) person_prefixes: &'static str,
    /// Ways to reach a person: "talk", "позовите".
    pub(super) contact_verbs: &'static str,
    /// Words that may surround a request for a person without making it a product search:
    /// "a real human please", "дайте живого оператора".
    pub(super) human_filler: &'static str,

    // Questions
    /// Question words that ask wherever they stand: "how", "сколько".
    pub(super) question_words: &'static str,
    /// Words that ask when they open a clause: "Is there…", "Можно вернуть…", "Есть доставка…".
    pub(super) question_starters: &'static str,
    /// Words that may come before the question word of a clause: "so how…", "а где…",
    /// "подскажите, как…".
    pub(super) clause_openers: &'static str,
}

/// What a price cue makes of the amount next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cue {
    /// "under", "до": a maximum.
    AtMost,
    /// "over", "дороже": a minimum.
    AtLeast,
    /// "from", "от": a minimum alone, the start of a range with "to"/"до".
    From,
    /// "between", "между": only the start of a range.
    Between,
    /// "around", "около": ±20%.
    Around,
    /// "budget", "бюджет": a maximum.
    Budget,
    /// "за": a maximum, but "за 2" is too small to be a price without a currency.
    For,
}

/// One list of single words of every language and the symbols, as a set made on first use:
/// `static GREETING_WORDS: WordSet = LazyLock::new(|| words::set(|w| w.greetings));`.
pub(super) type WordSet = LazyLock<HashSet<&'static str>>;

/// One list of single words, of every language and the symbols.
pub(super) fn set(list: fn(&Words) -> &'static str) -> HashSet<&'static str> {
    everywhere()
        .flat_map(|words| list(words).split_whitespace())
        .collect()
}

/// The entries of one list of phrases, of every language and the symbols.
pub(super) fn phrases<T>(list: fn(&Words) -> &'static [T]) -> impl Iterator<Item = &'static T> {
    everywhere().flat_map(list)
}

fn everywhere() -> impl Iterator<Item = &'static Words> {
    LANGUAGES.iter().copied().chain([&symbols::SYMBOLS])
}
