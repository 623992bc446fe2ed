//! The admin's words in each language: the viewer's choice (the `keepstar_lang` cookie), else
//! the browser's (`Accept-Language`), else English.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::vocab::{Locale, Named};

/// Every label of the admin, in one language.
pub struct Text {
    pub lang: &'static str,
    pub admin: &'static str,
    pub sign_in: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub refused: &'static str,
    pub too_many: &'static str,
    pub link_title: &'static str,
    pub link_lead: &'static str,
    pub link_used: &'static str,
    pub sign_out: &'static str,
    pub sign_out_everywhere: &'static str,
    pub overview: &'static str,
    pub today: &'static str,
    pub days_7: &'static str,
    pub days_30: &'static str,
    pub conversations: &'static str,
    pub messages: &'static str,
    pub handoffs: &'static str,
    pub first_token: &'static str,
    pub zero_results: &'static str,
    pub spend: &'static str,
    pub signed_in_as: &'static str,
    pub catalog: &'static str,
    /// The other language's name, on the link that switches to it.
    pub language: &'static str,
    /// The other language's code.
    pub other: &'static str,
}

const EN: Text = Text {
    lang: "en",
    admin: "keepstar admin",
    sign_in: "Sign in",
    email: "Email",
    password: "Password",
    refused: "The email or password is wrong.",
    too_many: "Too many attempts. Try again in a minute.",
    link_title: "Sign in with a one-time link",
    link_lead: "This link signs you in once. It was printed by keepstar for you.",
    link_used: "This link was used already or has expired. Ask for a new one with `keepstar admin link`.",
    sign_out: "Sign out",
    sign_out_everywhere: "Sign out everywhere",
    overview: "Overview",
    today: "Today",
    days_7: "7 days",
    days_30: "30 days",
    conversations: "Conversations",
    messages: "Messages",
    handoffs: "Handoffs",
    first_token: "First token, median / p95",
    zero_results: "Searches that found nothing",
    spend: "Token spend",
    signed_in_as: "Signed in as",
    catalog: "Catalog",
    language: "Русский",
    other: "ru",
};

const RU: Text = Text {
    lang: "ru",
    admin: "keepstar: администрирование",
    sign_in: "Войти",
    email: "Эл. почта",
    password: "Пароль",
    refused: "Неверная почта или пароль.",
    too_many: "Слишком много попыток. Попробуйте через минуту.",
    link_title: "Вход по одноразовой ссылке",
    link_lead: "Эта ссылка открывает вход один раз. Её напечатал для вас keepstar.",
    link_used: "Ссылка уже использована или устарела. Получите новую: `keepstar admin link`.",
    sign_out: "Выйти",
    sign_out_everywhere: "Выйти на всех устройствах",
    overview: "Обзор",
    today: "Сегодня",
    days_7: "7 дней",
    days_30: "30 дней",
    conversations: "Разговоры",
    messages: "Сообщения",
    handoffs: "Передачи сотруднику",
    first_token: "Первый токен, медиана / p95",
    zero_results: "Поиски без результата",
    spend: "Расход токенов",
    signed_in_as: "Вы вошли как",
    catalog: "Каталог",
    language: "English",
    other: "en",
};

pub fn of(locale: Locale) -> &'static Text {
    match locale {
        Locale::En => &EN,
        Locale::Ru => &RU,
    }
}

/// The viewer's language.
#[derive(Clone, Copy)]
pub struct Lang(pub Locale);

impl Lang {
    pub fn text(self) -> &'static Text {
        of(self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let chosen = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|p| p.trim().strip_prefix("keepstar_lang="))
            .find_map(Locale::from_name);
        let browser = || {
            let accepted = parts.headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
            accepted
                .split(',')
                .filter_map(|l| l.split(';').next())
                .find_map(|l| Locale::from_name(l.trim().split('-').next()?))
        };
        Ok(Lang(chosen.or_else(browser).unwrap_or(Locale::En)))
    }
}
