//! What the layers below refuse, in the admin's languages. In English a refusal reads as the CLI
//! and the API write it (its `Display`); its Russian is here, beside the admin's other words.

use std::fmt::Display;

use crate::import;
use crate::money::{BadPrice, MAX_MAJOR, PriceProblem};
use crate::origin::{BadOrigin, OriginProblem};
use crate::store::tenants::{self, Wrong};
use crate::vocab::Locale;

/// A refusal the admin shows in the viewer's language.
pub trait Say: Display {
    fn ru(&self) -> String;

    /// The sentence in `locale`.
    fn say(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.to_string(),
            Locale::Ru => self.ru(),
        }
    }
}

/// A value in Russian quotes, its line breaks and other control characters written out.
fn q(value: &str) -> String {
    let shown: String = value
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    format!("«{shown}»")
}

/// The noun for `n` things: 1 символ, 2 символа, 5 символов.
fn plural(n: usize, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    match (n % 10, n % 100) {
        (1, r) if r != 11 => one,
        (2..=4, r) if !(12..=14).contains(&r) => few,
        _ => many,
    }
}

/// The noun after «не больше» `n`: не больше 21 символа, не больше 40 символов.
fn at_most(n: usize, one: &'static str, many: &'static str) -> String {
    let noun = if n % 10 == 1 && n % 100 != 11 {
        one
    } else {
        many
    };
    format!("не больше {n} {noun}")
}

impl Say for tenants::Problem {
    fn ru(&self) -> String {
        match &self.wrong {
            Wrong::Slug(slug) => format!(
                "Неверный код {}: нужно 2–40 символов из a–z, 0–9 и -.",
                q(slug)
            ),
            Wrong::Name(_) => "Укажите название не длиннее 100 символов.".into(),
            Wrong::Currency(code) => format!(
                "Неверная валюта {}: укажите код ISO 4217, например USD или RUB.",
                q(code)
            ),
            Wrong::Color(color) => {
                format!("Неверный цвет {}: укажите #rgb или #rrggbb.", q(color))
            }
            Wrong::TooLong { max } => format!(
                "Слишком длинный текст: {}.",
                at_most(*max, "символа", "символов")
            ),
            Wrong::Url(url) => format!("Неверный адрес {}: нужен адрес http(s).", q(url)),
            Wrong::EnvName(var) => format!(
                "Неверное имя переменной окружения {}: используйте A–Z, 0–9 и _ (имя переменной, а не сам ключ).",
                q(var)
            ),
            Wrong::OwnEnv(var) => format!(
                "В переменной {} хранятся настройки самого keepstar: укажите свою, например SHOP_OPENAI_KEY.",
                q(var)
            ),
            Wrong::Temperature(t) => format!("Неверная температура {t}: укажите число от 0 до 2."),
            Wrong::OutOfRange { value, max } => {
                format!("Неверное значение {value}: укажите число от 1 до {max}.")
            }
            Wrong::Amount(text) => format!(
                "Неверная сумма {}: укажите сумму вроде 0.0006, не больше 6 знаков после точки.",
                q(text)
            ),
            Wrong::Origin(bad) => origin(bad),
        }
    }
}

fn origin(bad: &BadOrigin) -> String {
    let why = match &bad.why {
        OriginProblem::NoScheme => "нужен вид схема://хост, например https://shop.example",
        OriginProblem::Scheme => "схема должна быть http или https",
        OriginProblem::NotBare => {
            "у источника не бывает пути, запроса, учётных данных или звёздочки в середине"
        }
        OriginProblem::Url(e) => match e {
            url::ParseError::EmptyHost => "не указан хост",
            url::ParseError::InvalidPort => "неверный номер порта",
            url::ParseError::InvalidIpv4Address | url::ParseError::InvalidIpv6Address => {
                "неверный IP-адрес"
            }
            url::ParseError::IdnaError | url::ParseError::InvalidDomainCharacter => {
                "недопустимый символ в имени хоста"
            }
            _ => "это не адрес хоста",
        },
        OriginProblem::WildcardHost => "после «*.» нужно имя домена",
        OriginProblem::WildcardTooWide => {
            "звёздочка должна покрывать регистрируемый домен, например *.shop.example"
        }
    };
    format!("Неверный источник {}: {why}.", q(&bad.input))
}

impl Say for import::RowError {
    fn ru(&self) -> String {
        format!("строка {}: {}", self.line, self.problem.ru())
    }
}

impl Say for import::Problem {
    fn ru(&self) -> String {
        use import::Problem as P;
        match self {
            P::NoProducts => "в файле нет товаров".into(),
            P::NoEntries => "в файле нет записей".into(),
            P::NoHeadings => {
                "в файле нет заголовков: начинайте каждую запись строкой вида «## Вопрос»".into()
            }
            P::UnreadableCsv(e) => format!("не удалось прочитать CSV: {e}"),
            P::FieldCount { expected, found } => format!(
                "в строке {found} {}, а в заголовке {expected} (значение с запятой нужно заключить в двойные кавычки)",
                plural(*found, "поле", "поля", "полей")
            ),
            P::ColumnTwice(name) => format!("колонка {} встречается в заголовке дважды", q(name)),
            P::NoColumns { missing, found } => {
                let names: Vec<String> = missing.iter().map(|m| q(m)).collect();
                let what = match names.as_slice() {
                    [one] => format!("колонки {one}"),
                    many => format!("колонок {}", many.join(" и ")),
                };
                format!(
                    "в заголовке нет {what}: первая строка должна называть колонки, например sku,title,price (найдено: {found})"
                )
            }
            P::UnnamedColumn { column, value } => format!(
                "в колонке {column} есть значение {}, но у колонки нет названия в заголовке",
                q(value)
            ),
            P::NoQuestionAnswer { found } => {
                format!("в заголовке нужны колонки «question» и «answer» (найдено: {found})")
            }
            P::Json { column, detail } => {
                format!("ошибка JSON в позиции {column}: {}", json_detail(detail))
            }
            P::NotAnArray(kind) => format!(
                "ожидался массив товаров JSON вида [{{\"sku\": …}}], а найдено: {}",
                json_kind(*kind)
            ),
            P::NotAnObject(kind) => {
                format!("ожидался объект товара, а найдено: {}", json_kind(*kind))
            }
            P::GivenTwice(field) => format!("поле {} указано дважды", field.name()),
            P::UnnamedKey => "у одного из ключей нет названия".into(),
            P::NotText { field, kind } => format!(
                "поле {} должно быть текстом, а найдено: {}",
                field.name(),
                json_kind(*kind)
            ),
            P::NestedList(key) => format!(
                "атрибут {} содержит вложенный список или объект: используйте список простых значений",
                q(key)
            ),
            P::NestedObject(key) => format!(
                "атрибут {} — объект: вложенные объекты не поддерживаются, используйте простые ключи или текст",
                q(key)
            ),
            P::ControlInSku(sku) => format!(
                "sku {} содержит перевод строки или управляющий символ",
                q(sku)
            ),
            P::TooLong {
                field,
                value,
                chars,
                limit,
            } => format!(
                "значение {} {} слишком длинное: {chars} {} ({})",
                field.name(),
                q(value),
                plural(*chars, "символ", "символа", "символов"),
                at_most(*limit, "символа", "символов")
            ),
            P::Missing(field) => format!("не заполнено поле {}", field.name()),
            P::DuplicateSku { sku, first } => {
                format!("sku {} повторяется (впервые — в строке {first})", q(sku))
            }
            P::Currency(code) => format!(
                "неверная валюта {}: укажите трёхбуквенный код ISO 4217 (например, USD)",
                q(code)
            ),
            P::Price(bad) => price(bad),
            P::NotAPrice { field, value } => format!(
                "неверное значение {} {}: укажите число, например 49.90",
                field.name(),
                q(value)
            ),
            P::Url(url) => format!("неверная ссылка {}: нужен абсолютный адрес http(s)", q(url)),
            P::Image(image) => format!(
                "неверное изображение {}: нужен абсолютный адрес http(s) или путь, начинающийся с «/»",
                q(image)
            ),
            P::Rating(text) => format!(
                "неверный рейтинг {}: укажите число от 0 до 5 (например, 4.5)",
                q(text)
            ),
            P::RatingRange(written) => format!("рейтинг {written} вне диапазона 0–5"),
            P::EmptyHeading => "у заголовка нет текста".into(),
            P::NoText(title) => format!("под заголовком {} нет текста", q(title)),
            P::MissingQuestion => "не указан вопрос".into(),
            P::MissingAnswer => "не указан ответ".into(),
            P::DuplicateTitle { title, first } => format!(
                "заголовок {} повторяется (впервые — в строке {first})",
                q(title)
            ),
        }
    }
}

fn price(bad: &BadPrice) -> String {
    let why = match &bad.why {
        PriceProblem::Syntax { example } => {
            format!("используйте цифры и точку (например, {example})")
        }
        PriceProblem::Negative => "цена не может быть отрицательной".into(),
        PriceProblem::TooPrecise {
            currency,
            exponent: 0,
        } => format!("у {currency} нет дробной части, укажите целое число"),
        PriceProblem::TooPrecise { currency, exponent } => format!(
            "для {currency} допустимо {} после точки",
            at_most(*exponent as usize, "знака", "знаков")
        ),
        PriceProblem::TooLarge => format!("цена не может быть больше {MAX_MAJOR}"),
    };
    format!("неверное значение {} {}: {why}", bad.field, q(&bad.text))
}

fn json_kind(kind: import::JsonKind) -> &'static str {
    use import::JsonKind as K;
    match kind {
        K::Null => "null",
        K::Bool => "true/false",
        K::Number => "число",
        K::Text => "текст",
        K::List => "список",
        K::Object => "объект",
    }
}

/// The JSON parser's words for what it expected; one it is not known to say stays as it is.
fn json_detail(detail: &str) -> &str {
    match detail {
        "EOF while parsing a list"
        | "EOF while parsing an object"
        | "EOF while parsing a string"
        | "EOF while parsing a value" => "текст обрывается, не закончив значение",
        "expected `:`" => "ожидалось «:»",
        "expected `,` or `]`" => "ожидалось «,» или «]»",
        "expected `,` or `}`" => "ожидалось «,» или «}»",
        "expected ident" | "expected value" => "ожидалось значение",
        "expected `\"`" => "ожидалась «\"»",
        "invalid escape" => "неверная escape-последовательность",
        "invalid number" => "неверное число",
        "number out of range" => "число вне допустимого диапазона",
        "control character (\\u0000-\\u001F) found while parsing a string" => {
            "управляющий символ внутри строки"
        }
        "key must be a string" => "ключ должен быть строкой в кавычках",
        "trailing comma" => "лишняя запятая в конце",
        "trailing characters" => "лишние символы после значения",
        "recursion limit exceeded" => "слишком глубокая вложенность",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{CatalogFormat, parse_catalog};

    fn ru_errors(content: &str) -> Vec<String> {
        let errors = parse_catalog(content, CatalogFormat::Csv, "USD").unwrap_err();
        errors.iter().map(Say::ru).collect()
    }

    #[test]
    fn import_problems_read_as_russian_sentences_with_their_lines() {
        let long = "T".repeat(301);
        assert_eq!(
            ru_errors(&format!(
                "sku,title,price,rating\n,A,12.999,4\nB,{long},abc,4,x\nC,Ok,1,9\n"
            )),
            vec![
                "строка 2: не заполнено поле sku".to_string(),
                "строка 2: неверное значение price «12.999»: для USD допустимо не больше 2 знаков после точки".into(),
                "строка 3: в строке 5 полей, а в заголовке 4 (значение с запятой нужно заключить в двойные кавычки)".into(),
                "строка 4: рейтинг 9 вне диапазона 0–5".into(),
            ]
        );
        assert_eq!(
            ru_errors(&format!("sku,title\nA,{long}\n\"B\nB\",Ok\n")),
            vec![
                format!(
                    "строка 2: значение title «{}…» слишком длинное: 301 символ (не больше 300 символов)",
                    "T".repeat(60)
                ),
                "строка 3: sku «B\\nB» содержит перевод строки или управляющий символ".into(),
            ]
        );
        assert_eq!(
            ru_errors("TB-1,Tent\n"),
            vec![
                "строка 1: в заголовке нет колонок «sku» и «title»: первая строка должна называть колонки, например sku,title,price (найдено: TB-1, Tent)"
            ]
        );
    }

    #[test]
    fn russian_numbers_take_the_right_noun() {
        let fields = |n| plural(n, "поле", "поля", "полей");
        assert_eq!(
            [1, 2, 5, 11, 12, 21, 22, 25, 111].map(fields),
            [
                "поле",
                "поля",
                "полей",
                "полей",
                "полей",
                "поле",
                "поля",
                "полей",
                "полей"
            ]
        );
        assert_eq!(at_most(21, "символа", "символов"), "не больше 21 символа");
        assert_eq!(at_most(40, "символа", "символов"), "не больше 40 символов");
    }

    #[test]
    fn english_is_the_clis_sentence() {
        let p = tenants::validate_slug("Not A Slug").unwrap_err();
        assert_eq!(
            p.say(Locale::En),
            r#"invalid slug "Not A Slug": use 2-40 characters from a-z, 0-9 and '-'"#
        );
        assert_eq!(
            p.say(Locale::Ru),
            "Неверный код «Not A Slug»: нужно 2–40 символов из a–z, 0–9 и -."
        );
    }
}
