//! English words.

use super::{Cue, Words};

/// The English words messages are read by.
pub(super) const EN: Words = Words {
    leading_cues: &[
        ("under", Cue::AtMost),
        ("below", Cue::AtMost),
        ("less than", Cue::AtMost),
        ("less then", Cue::AtMost),
        ("cheaper than", Cue::AtMost),
        ("cheaper then", Cue::AtMost),
        ("lower than", Cue::AtMost),
        ("less expensive than", Cue::AtMost),
        ("up to", Cue::AtMost),
        ("upto", Cue::AtMost),
        ("no more than", Cue::AtMost),
        ("not more than", Cue::AtMost),
        ("no higher than", Cue::AtMost),
        ("not over", Cue::AtMost),
        ("max", Cue::AtMost),
        ("maximum", Cue::AtMost),
        ("at most", Cue::AtMost),
        ("within", Cue::AtMost),
        ("over", Cue::AtLeast),
        ("above", Cue::AtLeast),
        ("more than", Cue::AtLeast),
        ("more then", Cue::AtLeast),
        ("higher than", Cue::AtLeast),
        ("more expensive than", Cue::AtLeast),
        ("pricier than", Cue::AtLeast),
        ("at least", Cue::AtLeast),
        ("no less than", Cue::AtLeast),
        ("not less than", Cue::AtLeast),
        ("not under", Cue::AtLeast),
        ("min", Cue::AtLeast),
        ("minimum", Cue::AtLeast),
        ("starting at", Cue::AtLeast),
        ("starting from", Cue::AtLeast),
        ("from", Cue::From),
        ("between", Cue::Between),
        ("around", Cue::Around),
        ("about", Cue::Around),
        ("approximately", Cue::Around),
        ("approx", Cue::Around),
        ("roughly", Cue::Around),
        ("circa", Cue::Around),
        ("budget", Cue::Budget),
    ],
    trailing_cues: &[
        ("or less", Cue::AtMost),
        ("or under", Cue::AtMost),
        ("or below", Cue::AtMost),
        ("or cheaper", Cue::AtMost),
        ("and under", Cue::AtMost),
        ("and below", Cue::AtMost),
        ("and less", Cue::AtMost),
        ("max", Cue::AtMost),
        ("maximum", Cue::AtMost),
        ("tops", Cue::AtMost),
        ("at most", Cue::AtMost),
        ("and up", Cue::AtLeast),
        ("and above", Cue::AtLeast),
        ("and over", Cue::AtLeast),
        ("and more", Cue::AtLeast),
        ("or more", Cue::AtLeast),
        ("or higher", Cue::AtLeast),
        ("plus", Cue::AtLeast),
        ("at least", Cue::AtLeast),
        ("minimum", Cue::AtLeast),
    ],
    plus_cues: "plus",
    name_cues: "max min",
    cue_filler: "than of is",
    range_joiners: &["to", "and", "till", "until", "up to"],
    bare_range_joiners: &["to"],
    size_words: "size sizes sz eu uk us",
    units: "person persons people pers man men adult adults kid kids child children player \
        players seat seats seater season seasons day days week weeks month months year years yr \
        yrs hour hours hr hrs h minute minutes mins sec secs second seconds pc pcs piece pieces \
        pack packs pair pairs cup cups serving servings liter liters litre litres l ml kg g gr \
        gram grams lb lbs pound pounds oz ounce ounces mm cm m km meter meters metre metres inch \
        inches ft foot feet w watt watts v volt volts mah gb tb mb mp hz x times percent degree \
        degrees star stars item items",
    currency_words: "usd dollar dollars buck bucks eur euro euros gbp rub rur ruble rubles rouble \
        roubles",
    currency_after_number: "",
    thousands: "k thousand thousands grand",
    millions: "million millions mln",
    thousands_of_money: "",
    price_words: "price prices priced pricing cost costs costing budget",
    cheapness_words: "cheap cheaper cheapest inexpensive expensive pricier pricey affordable",
    greetings: "hi hii hello helo hey heya hiya howdy hallo hola yo greetings morning afternoon \
        evening",
    good_words: "good",
    times_of_day: &["morning", "afternoon", "evening", "day", "night"],
    thanks: "thanks thank thx thanx ty tnx tysm bye goodbye cya cheers",
    thanks_only_alone: "",
    small_talk: "good there all everyone everybody guys folks team friend friends you ya u r are \
        how doing again dear so very much a lot lots for the your help ok okay great cool \
        awesome perfect nice see later have day night got it that s was helpful and i",
    person_words: "human humans person someone somebody anyone anybody agent agents operator \
        operators manager managers representative representatives rep staff support consultant \
        specialist employee people",
    person_prefixes: "",
    contact_verbs: "talk talking speak speaking chat chatting connect transfer escalate reach \
        contact call",
    human_filler: "help real live actual another bot robot",
    question_words: "how what where why",
    question_starters: "when which who whom whose can could do does did is are was were will \
        would should shall may might have has had am isn aren don doesn didn won wouldn couldn \
        shouldn",
    clause_openers: "so and but also ok okay well please then btw sorry excuse tell me",
};
