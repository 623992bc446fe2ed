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
    // The team, the member's own account and the audit log.
    pub users: &'static str,
    pub account: &'static str,
    pub audit: &'static str,
    pub add_member: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub owner: &'static str,
    pub operator: &'static str,
    pub role_hint: &'static str,
    pub tenants: &'static str,
    pub all_tenants: &'static str,
    pub status: &'static str,
    pub active: &'static str,
    pub disabled: &'static str,
    pub disable: &'static str,
    pub you: &'static str,
    pub edit: &'static str,
    pub save: &'static str,
    pub add: &'static str,
    pub remove: &'static str,
    pub remove_lead: &'static str,
    pub optional_password: &'static str,
    pub new_password: &'static str,
    pub current_password: &'static str,
    pub password_lead: &'static str,
    pub send_link: &'static str,
    pub link_made: &'static str,
    pub link_made_lead: &'static str,
    pub back_to_team: &'static str,
    pub saved: &'static str,
    pub when: &'static str,
    pub actor: &'static str,
    pub action: &'static str,
    pub target: &'static str,
    pub tenant: &'static str,
    pub details: &'static str,
    pub any: &'static str,
    pub filter: &'static str,
    pub older: &'static str,
    pub newest: &'static str,
    pub no_entries: &'static str,
    pub err_invalid_email: &'static str,
    pub err_email_taken: &'static str,
    pub err_password_short: &'static str,
    pub err_password_long: &'static str,
    pub err_name_long: &'static str,
    pub err_last_owner: &'static str,
    pub err_wrong_password: &'static str,
    pub err_unknown_tenant: &'static str,
    pub err_form: &'static str,
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
    users: "Team",
    account: "Your account",
    audit: "Audit log",
    add_member: "Add a member",
    name: "Name",
    role: "Role",
    owner: "Owner",
    operator: "Operator",
    role_hint: "An owner manages everything; an operator sees the conversations of the tenants ticked below.",
    tenants: "Tenants",
    all_tenants: "all",
    status: "Status",
    active: "active",
    disabled: "disabled",
    disable: "Disabled: cannot sign in, and their sessions end",
    you: "you",
    edit: "Edit",
    save: "Save",
    add: "Add",
    remove: "Remove",
    remove_lead: "Removes the member and ends their sessions. The audit log keeps what they did.",
    optional_password: "Password (optional, at least 12 characters; without one they sign in with a link)",
    new_password: "New password (at least 12 characters; leave empty to keep it)",
    current_password: "Current password",
    password_lead: "A new password signs you out on your other devices; you stay signed in here.",
    send_link: "Make a sign-in link",
    link_made: "A one-time sign-in link",
    link_made_lead: "Pass this link on to the member. It signs them in once and works for 15 minutes; it is not shown again.",
    back_to_team: "Back to the team",
    saved: "Saved.",
    when: "When (UTC)",
    actor: "Who",
    action: "Action",
    target: "What",
    tenant: "Tenant",
    details: "Details",
    any: "any",
    filter: "Filter",
    older: "Older entries",
    newest: "Newest entries",
    no_entries: "No entries.",
    err_invalid_email: "This is not an email address.",
    err_email_taken: "A member with this email exists already.",
    err_password_short: "The password must have at least 12 characters.",
    err_password_long: "The password is too long.",
    err_name_long: "The name must have at most 100 characters.",
    err_last_owner: "This is the only owner: make someone else an owner first.",
    err_wrong_password: "The current password is wrong.",
    err_unknown_tenant: "One of these tenants does not exist any more.",
    err_form: "Check the fields marked below.",
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
    users: "Команда",
    account: "Ваша учётная запись",
    audit: "Журнал действий",
    add_member: "Добавить участника",
    name: "Имя",
    role: "Роль",
    owner: "Владелец",
    operator: "Оператор",
    role_hint: "Владелец управляет всем; оператор видит разговоры отмеченных ниже магазинов.",
    tenants: "Магазины",
    all_tenants: "все",
    status: "Статус",
    active: "активен",
    disabled: "отключён",
    disable: "Отключён: не может войти, его сеансы завершаются",
    you: "вы",
    edit: "Изменить",
    save: "Сохранить",
    add: "Добавить",
    remove: "Удалить",
    remove_lead: "Удаляет участника и завершает его сеансы. Журнал сохраняет его действия.",
    optional_password: "Пароль (необязательно, не короче 12 символов; без пароля вход по ссылке)",
    new_password: "Новый пароль (не короче 12 символов; пусто — оставить прежний)",
    current_password: "Текущий пароль",
    password_lead: "Новый пароль завершит ваши сеансы на других устройствах; здесь вы останетесь в системе.",
    send_link: "Создать ссылку для входа",
    link_made: "Одноразовая ссылка для входа",
    link_made_lead: "Передайте эту ссылку участнику. Она открывает вход один раз и действует 15 минут; повторно она не показывается.",
    back_to_team: "Назад к команде",
    saved: "Сохранено.",
    when: "Когда (UTC)",
    actor: "Кто",
    action: "Действие",
    target: "Что",
    tenant: "Магазин",
    details: "Подробности",
    any: "любой",
    filter: "Показать",
    older: "Более ранние записи",
    newest: "Новые записи",
    no_entries: "Записей нет.",
    err_invalid_email: "Это не адрес эл. почты.",
    err_email_taken: "Участник с этой почтой уже есть.",
    err_password_short: "Пароль должен быть не короче 12 символов.",
    err_password_long: "Пароль слишком длинный.",
    err_name_long: "Имя должно быть не длиннее 100 символов.",
    err_last_owner: "Это единственный владелец: сначала сделайте владельцем кого-то ещё.",
    err_wrong_password: "Текущий пароль неверен.",
    err_unknown_tenant: "Одного из этих магазинов больше нет.",
    err_form: "Проверьте отмеченные поля.",
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
