//! Prices: parsing major units from catalog files into integer minor units, and showing them per locale.
//!
//! Amounts are always integers in the currency's minor unit (cents, kopecks; yen have none), so no
//! float ever reaches the database or a price comparison.

use std::fmt;

use crate::vocab::Locale;

/// The largest price a catalog may state, in major units (a trillion).
pub const MAX_MAJOR: i64 = 1_000_000_000_000;

const NBSP: char = '\u{a0}';

/// Digits after the decimal point for an ISO 4217 code (2 for codes ISO does not list otherwise).
pub fn exponent(currency: &str) -> u32 {
    const ZERO: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    const FOUR: [&str; 2] = ["CLF", "UYW"];
    let code = currency.trim();
    let is = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(code));
    if is(&ZERO) {
        0
    } else if is(&THREE) {
        3
    } else if is(&FOUR) {
        4
    } else {
        2
    }
}

/// Parses a price in major units as written in a catalog ("12990", "49.90") into minor units.
///
/// Surrounding whitespace is ignored; trailing zeros past the currency's exponent are accepted
/// ("12990.00" for JPY) because they lose nothing.
pub fn parse_major(text: &str, currency: &str) -> Result<i64, BadPrice> {
    parse_amount(text, currency, "price")
}

/// A price as written that cannot be read; it reads (`Display`) as the CLI's sentence:
/// `invalid price "12,99": use digits and '.' (e.g. 49.90)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPrice {
    /// The field's name, as a catalog file names it (`price`, `compare_at`).
    pub field: &'static str,
    /// The text as written, trimmed and shortened when long.
    pub text: String,
    pub why: PriceProblem,
}

/// What is wrong with a written price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceProblem {
    /// Not plain digits with at most one '.'; `example` is a price the currency can have.
    Syntax {
        example: &'static str,
    },
    Negative,
    /// More digits after the '.' than the currency has (`exponent` 0: it has no minor units).
    TooPrecise {
        currency: String,
        exponent: u32,
    },
    /// Above [`MAX_MAJOR`].
    TooLarge,
}

impl fmt::Display for BadPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: ", self.field, self.text)?;
        match &self.why {
            PriceProblem::Syntax { example } => write!(f, "use digits and '.' (e.g. {example})"),
            PriceProblem::Negative => f.write_str("a price cannot be negative"),
            PriceProblem::TooPrecise {
                currency,
                exponent: 0,
            } => write!(f, "{currency} has no minor units; use a whole number"),
            PriceProblem::TooPrecise { currency, exponent } => {
                write!(
                    f,
                    "{currency} allows at most {exponent} digits after the '.'"
                )
            }
            PriceProblem::TooLarge => write!(f, "the largest price allowed is {MAX_MAJOR}"),
        }
    }
}

/// [`parse_major`] with the field's name in the error ("invalid compare_at …").
pub(crate) fn parse_amount(
    text: &str,
    currency: &str,
    field: &'static str,
) -> Result<i64, BadPrice> {
    let exp = exponent(currency);
    let t = text.trim();
    let invalid = |why| BadPrice {
        field,
        text: shorten(t),
        why,
    };
    let example = if exp == 0 { "12990" } else { "49.90" };
    let syntax = || invalid(PriceProblem::Syntax { example });

    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(syntax());
    }
    if negative {
        return Err(invalid(PriceProblem::Negative));
    }
    let frac = frac.unwrap_or("").trim_end_matches('0');
    if frac.len() > exp as usize {
        return Err(invalid(PriceProblem::TooPrecise {
            currency: currency.trim().to_ascii_uppercase(),
            exponent: exp,
        }));
    }
    let too_large = || invalid(PriceProblem::TooLarge);
    let int = int.trim_start_matches('0');
    // 13 digits hold MAX_MAJOR; anything longer is too large, and parsing it could overflow.
    if int.len() > 13 {
        return Err(too_large());
    }
    let major = to_number(int);
    if major > MAX_MAJOR || (major == MAX_MAJOR && !frac.is_empty()) {
        return Err(too_large());
    }
    let padded = format!("{frac:0<width$}", width = exp as usize);
    Ok(major * 10_i64.pow(exp) + to_number(&padded))
}

/// Converts a major-unit amount (a visitor's "under $300") to minor units, rounding half up.
///
/// NaN and amounts below zero give 0; amounts above [`MAX_MAJOR`] are clamped to it.
pub fn major_to_minor(major: f64, currency: &str) -> i64 {
    let exp = exponent(currency);
    let scale = 10_i64.pow(exp);
    if major.is_nan() || major <= 0.0 {
        return 0;
    }
    if major >= MAX_MAJOR as f64 {
        return MAX_MAJOR * scale;
    }
    // Round the shortest decimal form ("1.005"), not the binary value (1.00499999…), so the
    // result is what the visitor typed. Rust's `Display` for f64 never uses an exponent.
    let text = major.to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let kept: String = frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(exp as usize)
        .collect();
    let round_up = frac
        .as_bytes()
        .get(exp as usize)
        .is_some_and(|&d| d >= b'5');
    to_number(int) * scale + to_number(&kept) + i64::from(round_up)
}

/// The price as the locale shows it: "$1,299", "$49.90", "1,299 CHF" (en); "12 990 ₽", "49,90 $" (ru).
///
/// Cents show only when non-zero. In ru, digit groups and the gap before the symbol are no-break
/// spaces (U+00A0); in en the gap before a trailing code is an ordinary space.
pub fn display(amount_minor: i64, currency: &str, locale: Locale) -> String {
    let code = currency.trim().to_ascii_uppercase();
    let exp = exponent(&code);
    let scale = 10_u64.pow(exp);
    let abs = amount_minor.unsigned_abs();
    let (major, minor) = (abs / scale, abs % scale);
    let (group, decimal) = match locale {
        Locale::En => (',', '.'),
        Locale::Ru => (NBSP, ','),
    };
    let mut number = String::new();
    if amount_minor < 0 {
        number.push('-');
    }
    number.push_str(&group_digits(major, group));
    if minor != 0 {
        number.push(decimal);
        number.push_str(&format!("{minor:0width$}", width = exp as usize));
    }
    let symbol = symbol(&code);
    let unit = symbol.unwrap_or(&code);
    if unit.is_empty() {
        return number;
    }
    match locale {
        Locale::En if symbol.is_some() && code != "RUB" => match number.strip_prefix('-') {
            Some(positive) => format!("-{unit}{positive}"),
            None => format!("{unit}{number}"),
        },
        Locale::En => format!("{number} {unit}"),
        Locale::Ru => format!("{number}{NBSP}{unit}"),
    }
}

fn symbol(code: &str) -> Option<&'static str> {
    match code {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        "RUB" => Some("₽"),
        _ => None,
    }
}

/// "1299000" → "1,299,000" with the given separator between groups of three.
fn group_digits(n: u64, separator: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(d);
    }
    out
}

/// ASCII digits (already checked, at most 13 of them) to a number; empty is 0.
fn to_number(digits: &str) -> i64 {
    digits.bytes().fold(0_i64, |n, d| {
        n.saturating_mul(10)
            .saturating_add(i64::from(d.saturating_sub(b'0')))
    })
}

/// The value for an error, shortened when long.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    if text.chars().count() > LIMIT {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{head}…")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as the CLI writes it.
    fn sentence(parsed: Result<i64, BadPrice>) -> Result<i64, String> {
        parsed.map_err(|e| e.to_string())
    }

    #[test]
    fn exponent_follows_iso_4217() {
        for code in ["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"] {
            assert_eq!(exponent(code), 0, "{code}");
        }
        for code in ["BHD", "KWD", "OMR", "JOD", "TND"] {
            assert_eq!(exponent(code), 3, "{code}");
        }
        for code in ["USD", "EUR", "RUB", "GBP", "HUF", "CHF", "XYZ", "", "US"] {
            assert_eq!(exponent(code), 2, "{code}");
        }
        assert_eq!(exponent("CLF"), 4);
        assert_eq!(exponent("jpy"), 0, "codes match case-insensitively");
        assert_eq!(exponent(" KWD "), 3);
    }

    #[test]
    fn parses_catalog_prices() {
        assert_eq!(parse_major("12990", "RUB"), Ok(1_299_000));
        assert_eq!(parse_major("49.90", "USD"), Ok(4990));
        assert_eq!(parse_major("49.9", "USD"), Ok(4990));
        assert_eq!(parse_major("1299.5", "EUR"), Ok(129_950));
        assert_eq!(parse_major("0", "USD"), Ok(0));
        assert_eq!(parse_major("0.5", "USD"), Ok(50));
        assert_eq!(parse_major("0.05", "USD"), Ok(5));
        assert_eq!(parse_major("007", "USD"), Ok(700));
        assert_eq!(parse_major("12990", "JPY"), Ok(12990));
        assert_eq!(parse_major("1.234", "KWD"), Ok(1234));
        assert_eq!(parse_major("1.2", "KWD"), Ok(1200));
        assert_eq!(parse_major(" 12 ", "USD"), Ok(1200));
    }

    #[test]
    fn trailing_zeros_past_the_exponent_lose_nothing() {
        assert_eq!(parse_major("12990.00", "JPY"), Ok(12990));
        assert_eq!(parse_major("1.2300", "USD"), Ok(123));
    }

    #[test]
    fn rejects_malformed_prices_with_a_sentence() {
        assert_eq!(
            sentence(parse_major("12,99", "USD")),
            Err("invalid price \"12,99\": use digits and '.' (e.g. 49.90)".into())
        );
        for bad in [
            "", "1e5", "NaN", "inf", "12 990", "$12", "+5", ".5", "5.", "1.2.3", "١٢",
        ] {
            let err = parse_major(bad, "USD").unwrap_err().to_string();
            assert!(err.contains("use digits and '.'"), "{bad}: {err}");
        }
        assert_eq!(
            sentence(parse_major("-1", "USD")),
            Err("invalid price \"-1\": a price cannot be negative".into())
        );
        assert_eq!(
            sentence(parse_major("1.234", "USD")),
            Err("invalid price \"1.234\": USD allows at most 2 digits after the '.'".into())
        );
        assert_eq!(
            sentence(parse_major("12990.5", "JPY")),
            Err("invalid price \"12990.5\": JPY has no minor units; use a whole number".into())
        );
        assert!(
            parse_major("1x", "JPY")
                .unwrap_err()
                .to_string()
                .contains("(e.g. 12990)")
        );
    }

    #[test]
    fn caps_prices_at_a_trillion() {
        assert_eq!(parse_major("1000000000000", "USD"), Ok(100_000_000_000_000));
        assert_eq!(
            parse_major("1000000000000", "KWD"),
            Ok(1_000_000_000_000_000)
        );
        assert_eq!(
            parse_major("0001000000000000.00", "USD"),
            Ok(100_000_000_000_000)
        );
        let too_large = "the largest price allowed is 1000000000000";
        for big in [
            "1000000000000.01",
            "1000000000001",
            "99999999999999999999999999999",
        ] {
            assert!(
                parse_major(big, "USD")
                    .unwrap_err()
                    .to_string()
                    .contains(too_large),
                "{big}"
            );
        }
        let huge = "9".repeat(5000);
        let err = parse_major(&huge, "USD").unwrap_err().to_string();
        assert!(
            err.len() < 200,
            "long input is shortened in the message: {err}"
        );
    }

    #[test]
    fn field_name_appears_in_the_error() {
        assert_eq!(
            sentence(parse_amount("abc", "USD", "compare_at")),
            Err("invalid compare_at \"abc\": use digits and '.' (e.g. 49.90)".into())
        );
    }

    #[test]
    fn converts_visitor_amounts_rounding_half_up() {
        assert_eq!(major_to_minor(300.0, "USD"), 30000);
        assert_eq!(major_to_minor(49.9, "USD"), 4990);
        assert_eq!(
            major_to_minor(1.005, "USD"),
            101,
            "rounds what was written, not the binary"
        );
        assert_eq!(major_to_minor(1.004, "USD"), 100);
        assert_eq!(major_to_minor(0.125, "USD"), 13);
        assert_eq!(major_to_minor(0.999, "USD"), 100);
        assert_eq!(major_to_minor(10_000.0, "RUB"), 1_000_000);
        assert_eq!(major_to_minor(12990.5, "JPY"), 12991);
        assert_eq!(major_to_minor(12990.4, "JPY"), 12990);
        assert_eq!(major_to_minor(1.2345, "KWD"), 1235);
        assert_eq!(major_to_minor(1e-300, "USD"), 0);
    }

    #[test]
    fn visitor_amounts_never_panic_or_overflow() {
        assert_eq!(major_to_minor(f64::NAN, "USD"), 0);
        assert_eq!(major_to_minor(-5.0, "USD"), 0);
        assert_eq!(major_to_minor(f64::NEG_INFINITY, "USD"), 0);
        assert_eq!(major_to_minor(f64::INFINITY, "USD"), MAX_MAJOR * 100);
        assert_eq!(major_to_minor(1e300, "CLF"), MAX_MAJOR * 10_000);
        assert_eq!(major_to_minor(f64::MAX, "JPY"), MAX_MAJOR);
    }

    #[test]
    fn shows_prices_in_english() {
        assert_eq!(display(129_900, "USD", Locale::En), "$1,299");
        assert_eq!(display(4990, "USD", Locale::En), "$49.90");
        assert_eq!(display(5, "USD", Locale::En), "$0.05");
        assert_eq!(display(0, "USD", Locale::En), "$0");
        assert_eq!(display(129_900, "EUR", Locale::En), "€1,299");
        assert_eq!(display(1999, "GBP", Locale::En), "£19.99");
        assert_eq!(display(12990, "JPY", Locale::En), "¥12,990");
        assert_eq!(display(129_900, "CHF", Locale::En), "1,299 CHF");
        assert_eq!(display(1_299_000, "RUB", Locale::En), "12,990 ₽");
        assert_eq!(display(1500, "KWD", Locale::En), "1.500 KWD");
        assert_eq!(display(1000, "KWD", Locale::En), "1 KWD");
        assert_eq!(display(99_999, "usd", Locale::En), "$999.99");
    }

    #[test]
    fn shows_prices_in_russian_with_no_break_spaces() {
        assert_eq!(display(1_299_000, "RUB", Locale::Ru), "12\u{a0}990\u{a0}₽");
        assert_eq!(display(4990, "USD", Locale::Ru), "49,90\u{a0}$");
        assert_eq!(display(129_900, "EUR", Locale::Ru), "1\u{a0}299\u{a0}€");
        assert_eq!(display(99_900, "RUB", Locale::Ru), "999\u{a0}₽");
        assert_eq!(
            display(129_950, "CHF", Locale::Ru),
            "1\u{a0}299,50\u{a0}CHF"
        );
        assert_eq!(display(12990, "JPY", Locale::Ru), "12\u{a0}990\u{a0}¥");
    }

    #[test]
    fn shows_huge_and_odd_amounts_without_panicking() {
        assert_eq!(
            display(100_000_000_000_000, "USD", Locale::En),
            "$1,000,000,000,000"
        );
        assert_eq!(
            display(i64::MAX, "USD", Locale::En),
            "$92,233,720,368,547,758.07"
        );
        assert_eq!(
            display(i64::MIN, "USD", Locale::En),
            "-$92,233,720,368,547,758.08"
        );
        assert_eq!(display(-150, "CHF", Locale::Ru), "-1,50\u{a0}CHF");
        assert_eq!(display(100, "", Locale::En), "1");
        assert_eq!(
            display(i64::MAX, "CLF", Locale::En),
            "922,337,203,685,477.5807 CLF"
        );
    }

    #[test]
    fn parse_then_display_round_trips() {
        for (text, currency, shown) in [
            ("12990", "RUB", "12\u{a0}990\u{a0}₽"),
            ("49.9", "USD", "49,90\u{a0}$"),
            ("1299", "EUR", "1\u{a0}299\u{a0}€"),
        ] {
            let minor = parse_major(text, currency).unwrap();
            assert_eq!(display(minor, currency, Locale::Ru), shown);
        }
    }
}
