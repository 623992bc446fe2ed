//! What a visitor's message asks for: a greeting, thanks, a human, or a search of the catalog and
//! the FAQ, with the price bounds it names ("tents under $300", "палатку до 15 тыс").
//!
//! Pure and deterministic: the builtin responder calls it once per visitor message.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::text;

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

/// A set of words written as one space-separated list.
fn word_set(list: &'static str) -> HashSet<&'static str> {
    list.split_whitespace().collect()
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A word as `text::words` returns it.
    Word,
    /// A number as written ("10 000", "49,90", "1.5k"), `scale` being its glued multiplier ("k");
    /// `currency` when a currency was glued to it ("300р", "5000руб").
    Number {
        value: f64,
        scale: f64,
        currency: bool,
    },
    /// $, €, ₽, £, ¥.
    Currency,
    /// Any other non-space character; dashes fold to "-", "≤" to "<", "≥" to ">", "≈" to "~".
    Symbol,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// The normalised word or symbol; empty for numbers.
    key: String,
    /// The text as written.
    raw: String,
}

/// More digits than this is not a price anyone types, and would lose precision in an f64.
const MAX_NUMBER_DIGITS: usize = 15;

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() {
            if c.is_ascii_digit()
                && let Some((token, next)) = number(&chars, i)
            {
                tokens.push(token);
                i = next;
                continue;
            }
            let end = word_end(&chars, i);
            let raw: String = chars[i..end].iter().collect();
            for word in text::words(&raw) {
                tokens.push(Token {
                    kind: Kind::Word,
                    key: word,
                    raw: raw.clone(),
                });
            }
            i = end;
        } else {
            tokens.push(symbol(c));
            i += 1;
        }
    }
    tokens
}

/// The end of the run of letters and digits (and the combining marks inside it) at `start`.
fn word_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while let Some(&c) = chars.get(end) {
        let mark = matches!(c, '\u{300}'..='\u{36f}' | '\u{ad}');
        if !(c.is_alphanumeric() || (mark && end > start)) {
            break;
        }
        end += 1;
    }
    end
}

fn digits_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while chars.get(end).is_some_and(char::is_ascii_digit) {
        end += 1;
    }
    end
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// A number starting at `start`: thousands groups ("10 000", "10,000"), a decimal part ("49.90",
/// "49,90") and a glued multiplier or currency ("1.5k", "300р"). `None` when the run is a word
/// rather than a number ("58mm", "4x4", "1e309") or too long to be a price.
fn number(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut pos = digits_end(chars, start);
    let mut integer: String = chars[start..pos].iter().collect();
    let mut fraction = String::new();
    if !chars.get(pos).is_some_and(|c| c.is_alphanumeric()) {
        // "10,000" and "10 000" are one number; "49,90" is 49.9. A group is exactly three digits
        // after a first group of one to three.
        let mut separator: Option<char> = None;
        if pos - start <= 3 {
            while let Some(&c) = chars.get(pos) {
                let class = if is_group_space(c) { ' ' } else { c };
                if !matches!(class, ',' | ' ' | '\'') || separator.is_some_and(|s| s != class) {
                    break;
                }
                let group_end = digits_end(chars, pos + 1);
                if group_end - (pos + 1) != 3 || glued_suffix(chars, group_end).is_none() {
                    break;
                }
                integer.extend(&chars[pos + 1..group_end]);
                separator = Some(class);
                pos = group_end;
                if integer.len() > MAX_NUMBER_DIGITS {
                    // Too long already; stopping here keeps a huge digit-group message linear.
                    return None;
                }
            }
        }
        if let Some(&c) = chars.get(pos)
            && (c == '.' || c == ',')
            && separator != Some(c)
        {
            let fraction_end = digits_end(chars, pos + 1);
            if fraction_end > pos + 1 && glued_suffix(chars, fraction_end).is_some() {
                fraction = chars[pos + 1..fraction_end].iter().collect();
                pos = fraction_end;
            }
        }
    }
    let (multiplier, currency, end) = glued_suffix(chars, pos)?;
    if integer.len() + fraction.len() > MAX_NUMBER_DIGITS {
        return None;
    }
    let written = if fraction.is_empty() {
        integer
    } else {
        format!("{integer}.{fraction}")
    };
    let value = written.parse::<f64>().ok()? * multiplier;
    if !value.is_finite() {
        return None;
    }
    let token = Token {
        kind: Kind::Number {
            value,
            scale: multiplier,
            currency,
        },
        key: String::new(),
        raw: chars[start..end].iter().collect(),
    };
    Some((token, end))
}

/// Letters glued to the end of a number: `(multiplier, currency, end)`; `None` when they make
/// the number a word ("58mm", "2p").
fn glued_suffix(chars: &[char], pos: usize) -> Option<(f64, bool, usize)> {
    if !chars.get(pos).is_some_and(|c| c.is_alphanumeric()) {
        return Some((1.0, false, pos));
    }
    let end = word_end(chars, pos);
    let suffix: String = text::words(&chars[pos..end].iter().collect::<String>()).concat();
    if suffix.chars().any(|c| c.is_numeric()) {
        None
    } else if let Some(multiplier) = multiplier(&suffix) {
        Some((multiplier, false, end))
    } else if suffix == "тр" {
        Some((1000.0, true, end))
    } else if suffix == "р" || is_currency_word(&suffix) {
        Some((1.0, true, end))
    } else {
        None
    }
}

fn symbol(c: char) -> Token {
    let (kind, key) = match c {
        '$' | '€' | '₽' | '£' | '¥' => (Kind::Currency, c.to_string()),
        '-' | '‐' | '‑' | '‒' | '–' | '—' | '−' => (Kind::Symbol, "-".to_string()),
        '<' | '≤' | '⩽' | '＜' => (Kind::Symbol, "<".to_string()),
        '>' | '≥' | '⩾' | '＞' => (Kind::Symbol, ">".to_string()),
        '~' | '≈' | '∼' | '～' => (Kind::Symbol, "~".to_string()),
        '?' | '？' | '¿' => (Kind::Symbol, "?".to_string()),
        _ => (Kind::Symbol, c.to_string()),
    };
    Token {
        kind,
        key,
        raw: c.to_string(),
    }
}

/// The word at `i`, if a word is there.
fn word_at(tokens: &[Token], i: usize) -> Option<&str> {
    tokens
        .get(i)
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.key.as_str())
}

/// Whether the space-separated words/symbols of `seq` start at `i`; the index after them if so.
fn seq_at(tokens: &[Token], i: usize, seq: &str) -> Option<usize> {
    let mut end = i;
    for expected in seq.split_whitespace() {
        let t = tokens.get(end)?;
        if !matches!(t.kind, Kind::Word | Kind::Symbol) || t.key != expected {
            return None;
        }
        end += 1;
    }
    Some(end)
}

/// The longest entry of `table` that starts at `i`.
fn cue_at(tokens: &[Token], i: usize, table: &[(&str, Cue)]) -> Option<(Cue, usize)> {
    table
        .iter()
        .filter_map(|(seq, cue)| seq_at(tokens, i, seq).map(|end| (*cue, end)))
        .max_by_key(|(_, end)| *end)
}

// ---------------------------------------------------------------------------------------------
// Prices

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
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

/// Cues written before the number. Longest match wins, so "не дороже" beats "дороже".
const LEADING_CUES: &[(&str, Cue)] = &[
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
    ("<", Cue::AtMost),
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
    (">", Cue::AtLeast),
    ("from", Cue::From),
    ("between", Cue::Between),
    ("around", Cue::Around),
    ("about", Cue::Around),
    ("approximately", Cue::Around),
    ("approx", Cue::Around),
    ("roughly", Cue::Around),
    ("circa", Cue::Around),
    ("~", Cue::Around),
    ("budget", Cue::Budget),
    ("до", Cue::AtMost),
    ("дешевле", Cue::AtMost),
    ("не дороже", Cue::AtMost),
    ("не больше", Cue::AtMost),
    ("не более", Cue::AtMost),
    ("не выше", Cue::AtMost),
    ("менее", Cue::AtMost),
    ("меньше", Cue::AtMost),
    ("ниже", Cue::AtMost),
    ("в пределах", Cue::AtMost),
    ("в рамках", Cue::AtMost),
    ("максимум", Cue::AtMost),
    ("макс", Cue::AtMost),
    ("дороже", Cue::AtLeast),
    ("больше", Cue::AtLeast),
    ("более", Cue::AtLeast),
    ("свыше", Cue::AtLeast),
    ("выше", Cue::AtLeast),
    ("не меньше", Cue::AtLeast),
    ("не менее", Cue::AtLeast),
    ("не дешевле", Cue::AtLeast),
    ("не ниже", Cue::AtLeast),
    ("минимум", Cue::AtLeast),
    ("мин", Cue::AtLeast),
    ("начиная с", Cue::AtLeast),
    ("начиная от", Cue::AtLeast),
    ("от", Cue::From),
    ("между", Cue::Between),
    ("в диапазоне", Cue::Between),
    ("около", Cue::Around),
    ("примерно", Cue::Around),
    ("приблизительно", Cue::Around),
    ("порядка", Cue::Around),
    ("в районе", Cue::Around),
    ("где то", Cue::Around),
    ("где - то", Cue::Around),
    ("бюджет", Cue::Budget),
    ("за", Cue::For),
];

/// Cues written after the number: "$100 and up", "300 max", "5000 и дешевле".
const TRAILING_CUES: &[(&str, Cue)] = &[
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
    ("или дешевле", Cue::AtMost),
    ("и дешевле", Cue::AtMost),
    ("или меньше", Cue::AtMost),
    ("и меньше", Cue::AtMost),
    ("или ниже", Cue::AtMost),
    ("и ниже", Cue::AtMost),
    ("максимум", Cue::AtMost),
    ("макс", Cue::AtMost),
    ("and up", Cue::AtLeast),
    ("and above", Cue::AtLeast),
    ("and over", Cue::AtLeast),
    ("and more", Cue::AtLeast),
    ("or more", Cue::AtLeast),
    ("or higher", Cue::AtLeast),
    ("plus", Cue::AtLeast),
    ("+", Cue::AtLeast),
    ("at least", Cue::AtLeast),
    ("minimum", Cue::AtLeast),
    ("и выше", Cue::AtLeast),
    ("или выше", Cue::AtLeast),
    ("и дороже", Cue::AtLeast),
    ("или дороже", Cue::AtLeast),
    ("и больше", Cue::AtLeast),
    ("или больше", Cue::AtLeast),
    ("и более", Cue::AtLeast),
    ("минимум", Cue::AtLeast),
];

/// Words between a cue and its number: "дешевле чем 5000", "budget of $300", "budget: 300".
const CUE_FILLER: &[&str] = &["чем", "than", "of", "is", ":"];

/// What joins the two ends of a range after "between"/"from"/"от"/"между".
const RANGE_JOINERS: &[&str] = &["-", "to", "and", "till", "until", "up to", "и", "до", "по"];

/// What joins a range with no cue before it: "100-300", "$100 to $300".
const BARE_RANGE_JOINERS: &[&str] = &["-", "to"];

/// Words before a bare range that make it a size, not a price: "size 40-42".
static SIZE_WORDS: LazyLock<HashSet<&str>> =
    LazyLock::new(|| word_set("size sizes sz eu uk us размер размера размеры размеров рр рост"));

/// Words after a bare number that make it a count or a measure, not a price: "up to 4 people",
/// "от 2 до 4 человек", "about 3 days". Symbols too: "до 50%", "до -10°", "up to 15\"".
static UNIT_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "person persons people pers man men adult adults kid kids child children player players \
        seat seats seater season seasons day days week weeks month months year years yr yrs hour \
        hours hr hrs h minute minutes mins sec secs second seconds pc pcs piece pieces pack \
        packs pair pairs cup cups serving servings liter liters litre litres l ml kg g gr gram \
        grams lb lbs pound pounds oz ounce ounces mm cm m km meter meters metre metres inch \
        inches ft foot feet w watt watts v volt volts mah gb tb mb mp hz x times percent \
        degree degrees star stars item items % ° \" ' чел человек человека людей взрослых детей \
        персоны персон мест места место сезона сезонов шт штук штуки штука л мл кг г гр грамм \
        граммов килограмм мм см м км метра метров литр литра литров дюйм дюйма дюймов вт ватт \
        мач гб тб мб мп гц раз раза день дня дней сутки суток час часа часов мин минут минуты \
        сек неделя недели недель неделю месяц месяца месяцев год года лет процент процента \
        процентов градус градуса градусов порция порции порций чашка чашки чашек пара пары пар",
    )
});

static CURRENCY_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "usd dollar dollars buck bucks eur euro euros gbp rub rur ruble rubles rouble roubles руб \
        рубль рубля рублей рублях рублями рублям доллар доллара долларов долларах бакс бакса \
        баксов евро",
    )
});

/// A currency word; the lone "р" counts only right after a number ("300 р.").
fn is_currency_word(word: &str) -> bool {
    CURRENCY_WORDS.contains(word)
}

fn multiplier(word: &str) -> Option<f64> {
    match word {
        "k" | "к" | "тыс" | "тысяч" | "тысячи" | "тысяча" | "тыщ" | "тыщи" | "тыща"
        | "thousand" | "thousands" | "grand" => Some(1_000.0),
        "млн" | "миллион" | "миллиона" | "миллионов" | "million" | "millions" | "mln" => {
            Some(1_000_000.0)
        }
        _ => None,
    }
}

/// Words naming a price, which carry nothing to search for once the bounds are read
/// ("палатка по цене до 5000") but are the subject of an FAQ without them ("do you price match?").
static PRICE_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "price prices priced pricing cost costs costing budget цена цены цене цену ценой ценам \
        ценник стоимость стоимостью стоимости бюджет бюджетом бюджете",
    )
});

/// Words about cheapness, never in a product's name: "cheap tents", "а есть дешевле?".
static CHEAPNESS_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    word_set(
        "cheap cheaper cheapest inexpensive expensive pricier pricey affordable дешевле дороже \
        дешевый дешевая дешевое дешевые дешевую дешево дешевого дешевых дешевенький недорогой \
        недорогая недорогое недорогие недорогую недорого недорогих подешевле подороже",
    )
});

#[derive(Debug, Clone, Copy, PartialEq)]
struct Value {
    amount: f64,
    /// The multiplier written with the number: 1000 for "15k" and "15 тыс".
    scale: f64,
    currency: bool,
    /// The token after the value.
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Phrase {
    min: Option<f64>,
    max: Option<f64>,
    /// The token after the phrase.
    end: usize,
}

#[derive(Debug)]
struct Prices {
    min: Option<f64>,
    max: Option<f64>,
    /// Tokens that belong to a price phrase.
    used: Vec<bool>,
}

fn find_prices(tokens: &[Token]) -> Prices {
    let mut prices = Prices {
        min: None,
        max: None,
        used: vec![false; tokens.len()],
    };
    let mut i = 0;
    while i < tokens.len() {
        match phrase_at(tokens, i) {
            Some(phrase) if phrase.end > i => {
                prices.used[i..phrase.end].fill(true);
                prices.min = phrase.min.or(prices.min);
                prices.max = phrase.max.or(prices.max);
                i = phrase.end;
            }
            _ => i += 1,
        }
    }
    prices
}

/// A price phrase starting at token `i`.
fn phrase_at(tokens: &[Token], i: usize) -> Option<Phrase> {
    if let Some((cue, after_cue)) = cue_at(tokens, i, LEADING_CUES)
        && !is_name_part(tokens, i)
    {
        let start = skip_cue_filler(tokens, after_cue);
        match range_at(tokens, start, true) {
            Range::Price(phrase) => return Some(phrase),
            Range::NotPrice => return None,
            Range::Absent => {}
        }
        if cue == Cue::Between {
            return None;
        }
        let value = value_at(tokens, start)?;
        if !value.currency
            && (is_unit_at(tokens, value.end) || cue == Cue::For && value.amount < 100.0)
        {
            return None;
        }
        let mut end = value.end;
        let direction = if matches!(cue, Cue::AtLeast | Cue::From) {
            Cue::AtLeast
        } else {
            Cue::AtMost
        };
        if let Some((trailing, after)) = cue_at(tokens, end, TRAILING_CUES)
            && trailing == direction
        {
            end = after;
        }
        let (min, max) = match cue {
            Cue::AtLeast | Cue::From => (Some(value.amount), None),
            Cue::Around => (
                Some(value.amount * 4.0 / 5.0),
                Some(value.amount * 6.0 / 5.0),
            ),
            Cue::AtMost | Cue::Budget | Cue::For | Cue::Between => (None, Some(value.amount)),
        };
        return Some(Phrase { min, max, end });
    }

    match range_at(tokens, i, false) {
        Range::Price(phrase) => return Some(phrase),
        Range::NotPrice => return None,
        Range::Absent => {}
    }
    let value = value_at(tokens, i)?;
    if let Some((cue, end)) = cue_at(tokens, value.end, TRAILING_CUES)
        && (value.currency || is_bare_number_cue(tokens, value.end, end))
    {
        let (min, max) = if cue == Cue::AtLeast {
            (Some(value.amount), None)
        } else {
            (None, Some(value.amount))
        };
        return Some(Phrase { min, max, end });
    }
    // "tents $300", "палатка за 5000 рублей": an amount of money alone is a budget.
    value.currency.then_some(Phrase {
        min: None,
        max: Some(value.amount),
        end: value.end,
    })
}

/// Whether the trailing cue between `cue` and `end` makes a bare number a price: "300 max" does,
/// "4 people max" and "2+ person" do not, and neither does "iPhone 14 Plus" ("+" and "plus" need
/// a currency: "$100+").
fn is_bare_number_cue(tokens: &[Token], cue: usize, end: usize) -> bool {
    let plus = seq_at(tokens, cue, "+").is_some() || seq_at(tokens, cue, "plus").is_some();
    !plus && !is_unit_at(tokens, cue) && !is_unit_at(tokens, end)
}

/// "Air Max 90": a capitalised "Max"/"Min" right after another word is part of a product name.
fn is_name_part(tokens: &[Token], i: usize) -> bool {
    let capitalised = tokens.get(i).is_some_and(|t| {
        matches!(t.key.as_str(), "max" | "min") && t.raw.starts_with(char::is_uppercase)
    });
    capitalised && i > 0 && word_at(tokens, i - 1).is_some()
}

fn skip_cue_filler(tokens: &[Token], mut i: usize) -> usize {
    while tokens
        .get(i)
        .is_some_and(|t| t.kind != Kind::Currency && CUE_FILLER.contains(&t.key.as_str()))
    {
        i += 1;
    }
    i
}

enum Range {
    Price(Phrase),
    /// Reads like a range of something else: "from 2 to 4 people", "2-3 person", "size 40-42".
    NotPrice,
    Absent,
}

/// "100-300", "$100 to $300"; after a cue also "100 and 300", "5000 до 10000", "5000 и 10000".
fn range_at(tokens: &[Token], i: usize, after_cue: bool) -> Range {
    let Some(low) = value_at(tokens, i) else {
        return Range::Absent;
    };
    let joiners = if after_cue {
        RANGE_JOINERS
    } else {
        BARE_RANGE_JOINERS
    };
    let Some(joined) = joiners
        .iter()
        .filter_map(|seq| seq_at(tokens, low.end, seq))
        .max()
    else {
        return Range::Absent;
    };
    let Some(high) = value_at(tokens, joined) else {
        return Range::Absent;
    };
    let currency = low.currency || high.currency;
    if !currency {
        if is_unit_at(tokens, high.end) {
            return Range::NotPrice;
        }
        let size = i > 0 && word_at(tokens, i - 1).is_some_and(|w| SIZE_WORDS.contains(w));
        if !after_cue && (low.amount >= high.amount || high.amount < 10.0 || size) {
            return Range::NotPrice;
        }
    }
    // "от 5 до 10 тыс", "1-2k": the multiplier written once covers both ends.
    let mut low_amount = low.amount;
    if low.scale == 1.0 && high.scale > 1.0 && low.amount < high.amount / high.scale {
        low_amount *= high.scale;
    }
    Range::Price(Phrase {
        min: Some(low_amount),
        max: Some(high.amount),
        end: high.end,
    })
}

/// An amount of money at `i`: "300", "$300", "300 dollars", "15 тыс", "15 т.р.", "10 000 ₽".
fn value_at(tokens: &[Token], i: usize) -> Option<Value> {
    let mut j = i;
    let mut currency = false;
    let token = tokens.get(j)?;
    if token.kind == Kind::Currency || token.kind == Kind::Word && is_currency_word(&token.key) {
        currency = true;
        j += 1;
    }
    let Kind::Number {
        value: mut amount,
        mut scale,
        currency: glued,
    } = tokens.get(j)?.kind
    else {
        return None;
    };
    currency |= glued;
    j += 1;
    if let Some(m) = word_at(tokens, j).and_then(multiplier) {
        amount *= m;
        scale *= m;
        j = skip_dot(tokens, j + 1);
    } else if word_at(tokens, j) == Some("тр") {
        amount *= 1000.0;
        scale *= 1000.0;
        currency = true;
        j = skip_dot(tokens, j + 1);
    } else if word_at(tokens, j) == Some("т")
        && word_at(tokens, skip_dot(tokens, j + 1)) == Some("р")
    {
        // "15 т.р." is fifteen thousand roubles.
        amount *= 1000.0;
        scale *= 1000.0;
        currency = true;
        j = skip_dot(tokens, skip_dot(tokens, j + 1) + 1);
    }
    let next = tokens.get(j);
    if next.is_some_and(|t| {
        t.kind == Kind::Currency
            || t.kind == Kind::Word && (t.key == "р" || is_currency_word(&t.key))
    }) {
        currency = true;
        j = skip_dot(tokens, j + 1);
    }
    (amount.is_finite() && amount >= 0.0).then_some(Value {
        amount,
        scale,
        currency,
        end: j,
    })
}

fn skip_dot(tokens: &[Token], i: usize) -> usize {
    if tokens
        .get(i)
        .is_some_and(|t| t.kind == Kind::Symbol && t.key == ".")
    {
        i + 1
    } else {
        i
    }
}

fn is_unit_at(tokens: &[Token], i: usize) -> bool {
    tokens.get(i).is_some_and(|t| {
        matches!(t.kind, Kind::Word | Kind::Symbol) && UNIT_WORDS.contains(t.key.as_str())
    })
}

// ---------------------------------------------------------------------------------------------
// Terms

fn search_terms(tokens: &[Token], used: &[bool], priced: bool) -> Vec<String> {
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

/// Greetings and thanks said around a request ("hi, any tents?", "добрый день, нужна палатка").
fn chatter(tokens: &[Token]) -> Vec<bool> {
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

// ---------------------------------------------------------------------------------------------
// Intent

static GREETING_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
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

static THANKS_WORDS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
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

fn intent(tokens: &[Token]) -> Intent {
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

// ---------------------------------------------------------------------------------------------
// Questions

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

fn is_question(tokens: &[Token]) -> bool {
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
    use super::*;

    fn stems(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| text::stem(w)).collect()
    }

    fn prices(message: &str) -> (Option<f64>, Option<f64>) {
        let u = understand(message);
        (u.min_price, u.max_price)
    }

    #[track_caller]
    fn assert_max(message: &str, max: f64) {
        assert_eq!(prices(message), (None, Some(max)), "{message:?}");
    }

    #[track_caller]
    fn assert_min(message: &str, min: f64) {
        assert_eq!(prices(message), (Some(min), None), "{message:?}");
    }

    #[track_caller]
    fn assert_range(message: &str, min: f64, max: f64) {
        assert_eq!(prices(message), (Some(min), Some(max)), "{message:?}");
    }

    #[track_caller]
    fn assert_no_price(message: &str) {
        assert_eq!(prices(message), (None, None), "{message:?}");
    }

    #[test]
    fn english_maximum_phrases() {
        for message in [
            "tents under $300",
            "tents under 300",
            "tents below 300",
            "tents less than 300 dollars",
            "tents cheaper than 300",
            "tents up to 300",
            "tents no more than 300",
            "tents max 300",
            "tents at most 300",
            "tents within 300",
            "tents <300",
            "tents < 300",
            "tents ≤ 300 usd",
            "tents under 300 bucks",
            "tents 300 or less",
            "tents $300 max",
            "tents not more than 300 USD",
            "tents for $300",
            "tents, budget of 300",
            "tents under 300 in stock",
        ] {
            assert_max(message, 300.0);
        }
        assert_max("under 1k", 1000.0);
        assert_max("under 1.5k", 1500.0);
        assert_max("under 1,5k", 1500.0);
        assert_max("under €49.90", 49.9);
        assert_max("under 2 grand", 2000.0);
    }

    #[test]
    fn english_minimum_phrases() {
        for message in [
            "tents over 100",
            "tents above 100",
            "tents more than 100",
            "tents at least 100",
            "tents from 100",
            "tents min 100",
            "tents >100",
            "tents $100+",
            "tents $100 and up",
            "tents 100 dollars or more",
            "tents more expensive than 100",
        ] {
            assert_min(message, 100.0);
        }
    }

    #[test]
    fn english_ranges() {
        for message in [
            "tents between 100 and 300",
            "tents between $100 and $300",
            "tents from 100 to 300",
            "tents 100-300",
            "tents 100 – 300",
            "tents 100—300 usd",
            "tents $100 to $300",
            "tents $100-$300",
            "tents from $100 - 300 dollars",
            "tents over 100 and under 300",
            "tents from 300 to 100",
        ] {
            assert_range(message, 100.0, 300.0);
        }
        assert_range("around 200", 160.0, 240.0);
        assert_range("about $200", 160.0, 240.0);
        assert_range("tents ~200", 160.0, 240.0);
    }

    #[test]
    fn russian_maximum_phrases() {
        assert_max("палатку до 15000 рублей", 15000.0);
        assert_max("дешевле 5000", 5000.0);
        assert_max("не дороже 10 000 ₽", 10000.0);
        assert_max("не больше 10000", 10000.0);
        assert_max("менее 10000 руб", 10000.0);
        assert_max("меньше 10000р", 10000.0);
        assert_max("в пределах 10000", 10000.0);
        assert_max("до 15 тыс", 15000.0);
        assert_max("до 15 тыс. руб.", 15000.0);
        assert_max("до 15к", 15000.0);
        assert_max("до 15 т.р.", 15000.0);
        assert_max("до 15 000 р.", 15000.0);
        assert_max("дешевле чем 5000", 5000.0);
        assert_max("палатка за 5000", 5000.0);
        assert_max("кофемолка 5000₽", 5000.0);
        assert_max("бюджет 7000", 7000.0);
        assert_max("до 1,5 тыс", 1500.0);
        assert_max("5000 и дешевле", 5000.0);
    }

    #[test]
    fn russian_minimum_phrases() {
        for message in [
            "от 5000",
            "дороже 5000",
            "больше 5000",
            "более 5000 рублей",
            "не меньше 5000",
            "не менее 5000",
            "не дешевле 5 000 ₽",
            "свыше 5000",
            "от 5 тыс",
            "5000 и выше",
        ] {
            assert_min(message, 5000.0);
        }
    }

    #[test]
    fn russian_ranges() {
        for message in [
            "от 5000 до 10000",
            "от 5 000 до 10 000 рублей",
            "между 5000 и 10000",
            "5000-10000",
            "5000 - 10000 ₽",
            "от 5 до 10 тыс",
            "от 5 до 10 т.р.",
            "5-10к",
            "в диапазоне 5000-10000",
        ] {
            assert_range(message, 5000.0, 10000.0);
        }
        // The multiplier covers the low end only when that reads as a range.
        assert_range("from 500 to 1k", 500.0, 1000.0);
        assert_range("100-1.5k", 100.0, 1500.0);
        assert_range("около 5000", 4000.0, 6000.0);
        assert_range("примерно 5000 рублей", 4000.0, 6000.0);
        assert_range("где-то 5000", 4000.0, 6000.0);
    }

    #[test]
    fn numbers_are_read_as_written() {
        assert_max("under 10,000", 10000.0);
        assert_max("under 10 000", 10000.0);
        assert_max("до 15 000", 15000.0);
        assert_max("до 1 500 000", 1_500_000.0);
        assert_max("under 49.90", 49.9);
        assert_max("до 49,90", 49.9);
        assert_max("under $1,299.99", 1299.99);
        assert_max("до 1 000,50 ₽", 1000.5);
        assert_max("до 15\u{a0}000 ₽", 15000.0);
        assert_max("до 2 млн", 2_000_000.0);
    }

    #[test]
    fn numbers_that_are_not_prices_stay_terms() {
        let u = understand("2 person tent");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["2", "person", "tent"]);

        let u = understand("58mm grinder");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["58mm", "grinder"]);

        let u = understand("4-season tent");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, ["4", "season", "tent"]);

        let u = understand("нужна палатка на 2 человека");
        assert_eq!((u.min_price, u.max_price), (None, None));
        assert_eq!(u.terms, stems(&["палатка", "2", "человека"]));
        assert!(u.terms.contains(&"2".to_string()));

        for message in [
            "tent up to 4 people",
            "палатка до 4 человек",
            "палатка от 2 до 4 человек",
            "tent for 2 to 3 persons",
            "2-3 person tent",
            "палатка 3-4 местная",
            "size 40-42",
            "discounts up to 50%",
            "спальник до -10 градусов",
            "спальник до -10°",
            "delivery in about 3 days",
            "laptop sleeve up to 15\"",
            "за 2 дня",
            "палатка за 2",
            "2+ person tent",
            "iPhone 14 Plus",
            "iphone 14+",
            "10 000",
            "tent 300",
        ] {
            assert_no_price(message);
        }
        assert_eq!(
            understand("палатка от 2 до 4 человек").terms,
            stems(&["палатка", "2", "4", "человек"])
        );
        assert_eq!(understand("10 000").terms, ["10", "000"]);
        assert_eq!(understand("size 40-42").terms, ["size", "40", "42"]);
    }

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
    fn a_capitalised_max_inside_a_name_is_not_a_cue() {
        let u = understand("Nike Air Max 90 under 150");
        assert_eq!(u.terms, ["nike", "air", "max", "90"]);
        assert_eq!((u.min_price, u.max_price), (None, Some(150.0)));
        assert_max("Max 300", 300.0);
        assert_max("tents. Max 300", 300.0);
        assert_max("tents max 300", 300.0);
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
    fn currency_alone_is_a_budget() {
        assert_max("tents $300", 300.0);
        assert_max("палатка 5000 рублей", 5000.0);
        assert_max("I have 300 dollars", 300.0);
        assert_no_price("$");
        assert_no_price("руб");
    }

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
