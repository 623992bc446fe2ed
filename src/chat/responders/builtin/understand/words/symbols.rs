//! What every language writes the same way: signs that cue a price, join a range or name a unit.

use super::{Cue, Words};

/// The signs messages are read by, in every language.
pub(super) const SYMBOLS: Words = Words {
    leading_cues: &[("<", Cue::AtMost), (">", Cue::AtLeast), ("~", Cue::Around)],
    trailing_cues: &[("+", Cue::AtLeast)],
    plus_cues: "+",
    name_cues: "",
    cue_filler: ":",
    range_joiners: &["-"],
    bare_range_joiners: &["-"],
    size_words: "",
    units: "% ° \" '",
    currency_words: "",
    currency_after_number: "",
    thousands: "",
    millions: "",
    thousands_of_money: "",
    price_words: "",
    cheapness_words: "",
    greetings: "",
    good_words: "",
    times_of_day: &[],
    thanks: "",
    thanks_only_alone: "",
    small_talk: "",
    person_words: "",
    person_prefixes: "",
    contact_verbs: "",
    human_filler: "",
    question_words: "",
    question_starters: "",
    clause_openers: "",
};
