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
    /// The other language's name, on the link that switches to it.
    pub language: &'static str,
    /// The other language's code.
    pub other: &'static str,
    pub analytics: &'static str,
    /// The conversation and analytics pages' words.
    pub talk: &'static Talk,
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
    language: "Русский",
    other: "ru",
    analytics: "Analytics",
    talk: &TALK_EN,
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
    language: "English",
    other: "en",
    analytics: "Аналитика",
    talk: &TALK_RU,
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

/// The words of the conversation, transcript and analytics pages.
pub struct Talk {
    pub filters: &'static str,
    pub tenant: &'static str,
    pub all_tenants: &'static str,
    pub status: &'static str,
    pub any_status: &'static str,
    pub status_ai: &'static str,
    pub status_waiting: &'static str,
    pub status_human: &'static str,
    pub status_closed: &'static str,
    pub active_from: &'static str,
    pub active_to: &'static str,
    pub handed_over_only: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub apply: &'static str,
    pub reset: &'static str,
    pub bad_date: &'static str,
    pub none_found: &'static str,
    pub older: &'static str,
    pub newest: &'static str,
    pub last_active: &'static str,
    pub started: &'static str,
    pub first_message: &'static str,
    pub handed_over: &'static str,
    pub transcript: &'static str,
    pub visitor_page: &'static str,
    pub assignee: &'static str,
    pub role_visitor: &'static str,
    pub role_assistant: &'static str,
    pub role_operator: &'static str,
    pub role_system: &'static str,
    pub first_token_ms: &'static str,
    pub tokens: &'static str,
    pub cost: &'static str,
    pub interrupted: &'static str,
    pub failed: &'static str,
    pub was: &'static str,
    pub rating: &'static str,
    pub per_day: &'static str,
    pub day: &'static str,
    pub median: &'static str,
    pub p95: &'static str,
    pub top_searches: &'static str,
    pub times: &'static str,
    pub products_found: &'static str,
    pub misses_lead: &'static str,
    pub handoff_rate: &'static str,
    pub busiest_hours: &'static str,
    pub pick_tenant: &'static str,
    pub nothing_yet: &'static str,
    pub last_30_days: &'static str,
    pub earlier_not_shown: &'static str,
}

const TALK_EN: Talk = Talk {
    filters: "Filters",
    tenant: "Site",
    all_tenants: "All sites",
    status: "Status",
    any_status: "Any status",
    status_ai: "With the AI",
    status_waiting: "Waiting for a person",
    status_human: "With a person",
    status_closed: "Closed",
    active_from: "Active from",
    active_to: "Active until",
    handed_over_only: "Handed to the team",
    search: "Search messages",
    search_hint: "Words the messages contain; the beginning of a word is enough.",
    apply: "Show",
    reset: "Clear filters",
    bad_date: "Enter a date as YYYY-MM-DD.",
    none_found: "No conversations match.",
    older: "Older conversations",
    newest: "Back to the newest",
    last_active: "Last active",
    started: "Started",
    first_message: "First message",
    handed_over: "Handed over",
    transcript: "Conversation",
    visitor_page: "The visitor's page",
    assignee: "With",
    role_visitor: "Visitor",
    role_assistant: "Assistant",
    role_operator: "Operator",
    role_system: "System",
    first_token_ms: "first token",
    tokens: "tokens",
    cost: "cost",
    interrupted: "interrupted",
    failed: "failed",
    was: "was",
    rating: "rating",
    per_day: "Per day, last 30 days (UTC)",
    day: "Day",
    median: "median",
    p95: "p95",
    top_searches: "Top searches",
    times: "Times",
    products_found: "Products found (latest)",
    misses_lead: "What visitors looked for and the catalog did not have: candidates to add.",
    handoff_rate: "Handoff rate",
    busiest_hours: "Busiest hours (messages, UTC)",
    pick_tenant: "Choose a site",
    nothing_yet: "Nothing yet.",
    last_30_days: "last 30 days",
    earlier_not_shown: "Earlier messages are not shown.",
};

const TALK_RU: Talk = Talk {
    filters: "Фильтры",
    tenant: "Сайт",
    all_tenants: "Все сайты",
    status: "Состояние",
    any_status: "Любое",
    status_ai: "С ИИ",
    status_waiting: "Ждёт сотрудника",
    status_human: "С сотрудником",
    status_closed: "Закрыт",
    active_from: "Активен с",
    active_to: "Активен по",
    handed_over_only: "Передан сотрудникам",
    search: "Поиск по сообщениям",
    search_hint: "Слова из сообщений; достаточно начала слова.",
    apply: "Показать",
    reset: "Сбросить фильтры",
    bad_date: "Введите дату как ГГГГ-ММ-ДД.",
    none_found: "Подходящих разговоров нет.",
    older: "Более ранние разговоры",
    newest: "К самым новым",
    last_active: "Последняя активность",
    started: "Начат",
    first_message: "Первое сообщение",
    handed_over: "Передан",
    transcript: "Разговор",
    visitor_page: "Страница посетителя",
    assignee: "Ведёт",
    role_visitor: "Посетитель",
    role_assistant: "Ассистент",
    role_operator: "Сотрудник",
    role_system: "Система",
    first_token_ms: "первый токен",
    tokens: "токенов",
    cost: "стоимость",
    interrupted: "прервано",
    failed: "ошибка",
    was: "было",
    rating: "рейтинг",
    per_day: "По дням, последние 30 дней (UTC)",
    day: "День",
    median: "медиана",
    p95: "p95",
    top_searches: "Частые поиски",
    times: "Раз",
    products_found: "Найдено товаров (последний раз)",
    misses_lead: "Что искали посетители и чего нет в каталоге: кандидаты на добавление.",
    handoff_rate: "Доля передач сотрудникам",
    busiest_hours: "Самые загруженные часы (сообщения, UTC)",
    pick_tenant: "Выберите сайт",
    nothing_yet: "Пока ничего.",
    last_30_days: "последние 30 дней",
    earlier_not_shown: "Более ранние сообщения не показаны.",
};
