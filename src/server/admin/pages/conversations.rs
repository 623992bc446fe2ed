//! The conversations of the member's tenants: a filtered, searchable list (a GET form, so it
//! works without JavaScript) and one conversation's transcript with its formations rendered as
//! the visitor saw them. Another tenant's conversation is 404, as if it did not exist.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use time::{Date, Month, OffsetDateTime};

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::text::{Lang, Talk, Text};
use super::super::{Me, css_version, render};
use super::charts::DAY_MS;
use super::inbox::{Draft, Panel};
use crate::formation::{self, Body, Formation, QuickReply};
use crate::store::conversation_list::{self, Cursor, Filter, Header, Listed, Said};
use crate::store::conversations::{ConversationStatus, MessageStatus, Role};
use crate::store::tenants::Tenant;

/// Conversations on one page of the list.
const PAGE: usize = 50;

/// A time as the pages show it (UTC) and as `<time datetime>` carries it.
pub struct When {
    pub text: String,
    pub iso: String,
}

impl When {
    pub fn of(ms: i64) -> When {
        let t = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        When {
            text: format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
            iso: format!(
                "{}T{:02}:{:02}:{:02}Z",
                t.date(),
                t.hour(),
                t.minute(),
                t.second()
            ),
        }
    }
}

pub fn status_label(t: &Talk, s: ConversationStatus) -> &'static str {
    match s {
        ConversationStatus::Ai => t.status_ai,
        ConversationStatus::WaitingHuman => t.status_waiting,
        ConversationStatus::Human => t.status_human,
        ConversationStatus::Closed => t.status_closed,
    }
}

/// A link the page may show: http(s) only, never `javascript:` or the like.
fn web_link(url: &Option<String>) -> Option<String> {
    url.as_ref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .cloned()
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    handed: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

/// `YYYY-MM-DD` as the Unix ms of its UTC midnight.
fn midnight(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

pub struct Row {
    public_id: String,
    tenant: String,
    status: &'static str,
    status_code: &'static str,
    updated: When,
    messages: i64,
    first_text: String,
    snippet: Vec<(String, bool)>,
    handed_over: bool,
    page_url: Option<String>,
}

pub struct Choice {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "admin/conversations.html")]
struct ListPage {
    t: &'static Text,
    c: &'static Talk,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenants: Vec<(String, String)>,
    statuses: Vec<Choice>,
    tenant: String,
    status: String,
    from: String,
    to: String,
    handed: bool,
    q: String,
    from_error: bool,
    to_error: bool,
    rows: Vec<Row>,
    next: Option<String>,
    paged: bool,
}

fn tenant_name(tenants: &[Tenant], id: i64) -> String {
    tenants
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let c = t.talk;
    let tenants = admin.tenants(&state).await?;
    let ids = if q.tenant.is_empty() {
        tenants.iter().map(|t| t.id).collect()
    } else {
        vec![admin.tenant(&state, &q.tenant).await?.id]
    };
    let status = ConversationStatus::from_name(&q.status);
    let from_ms = (!q.from.trim().is_empty()).then(|| midnight(&q.from));
    let to_ms = (!q.to.trim().is_empty()).then(|| midnight(&q.to).map(|m| m + DAY_MS));
    let filter = Filter {
        tenants: ids,
        status,
        from_ms: from_ms.flatten(),
        to_ms: to_ms.flatten(),
        handed_over: !q.handed.is_empty(),
        query: (!q.q.trim().is_empty()).then(|| q.q.clone()),
        after: Cursor::decode(&q.after),
    };
    let found = {
        let filter = filter.clone();
        state
            .db
            .read(move |db| conversation_list::list(db, &filter, PAGE))
            .await?
    };
    let next = found.next.map(|cursor| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("tenant", q.tenant.as_str()),
                ("status", q.status.as_str()),
                ("from", q.from.as_str()),
                ("to", q.to.as_str()),
                ("handed", q.handed.as_str()),
                ("q", q.q.as_str()),
                ("after", cursor.encode().as_str()),
            ])
            .finish()
    });
    let rows = found
        .rows
        .into_iter()
        .map(|l: Listed| Row {
            tenant: tenant_name(&tenants, l.tenant_id),
            status: status_label(c, l.status),
            status_code: l.status.as_str(),
            updated: When::of(l.updated_at),
            messages: l.messages,
            first_text: l.first_text,
            snippet: l.snippet,
            handed_over: l.handed_over_at.is_some(),
            page_url: web_link(&l.page_url),
            public_id: l.public_id,
        })
        .collect();
    let statuses = [
        ConversationStatus::Ai,
        ConversationStatus::WaitingHuman,
        ConversationStatus::Human,
        ConversationStatus::Closed,
    ]
    .into_iter()
    .map(|s| Choice {
        value: s.as_str(),
        label: status_label(c, s),
    })
    .collect();
    render(&ListPage {
        t,
        c,
        me: Some(Me::from(&admin)),
        page: "conversations",
        css_version: css_version(),
        tenants: tenants
            .iter()
            .map(|t| (t.slug.clone(), t.name.clone()))
            .collect(),
        statuses,
        tenant: q.tenant,
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        from_error: matches!(from_ms, Some(None)),
        to_error: matches!(to_ms, Some(None)),
        from: q.from,
        to: q.to,
        handed: !q.handed.is_empty(),
        q: q.q,
        rows,
        next,
        paged: filter.after.is_some(),
    })
}

/// A product as the widget's card or detail shows it.
pub struct ItemView {
    title: String,
    subtitle: Option<String>,
    image: Option<String>,
    price: Option<String>,
    compare_at: Option<String>,
    rating: Option<String>,
    badges: Vec<String>,
    url: Option<String>,
    description: Option<String>,
    attributes: Vec<(String, String)>,
}

impl ItemView {
    fn of(i: &formation::Item) -> ItemView {
        ItemView {
            title: i.title.clone(),
            subtitle: i.subtitle.clone(),
            image: web_link(&i.image)
                .or_else(|| i.images.first().and_then(|u| web_link(&Some(u.clone())))),
            price: i.price.as_ref().map(|p| p.display.clone()),
            compare_at: i.compare_at.as_ref().map(|p| p.display.clone()),
            rating: i.rating.map(|r| format!("{r:.1}")),
            badges: i.badges.clone(),
            url: web_link(&i.url),
            description: i.description.clone(),
            attributes: i
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.value.clone()))
                .collect(),
        }
    }
}

/// A formation as the transcript draws it.
pub struct FormationView {
    kind: &'static str,
    layout: &'static str,
    title: Option<String>,
    items: Vec<ItemView>,
    rows: Vec<(String, Vec<String>)>,
    options: Vec<QuickReply>,
}

impl FormationView {
    fn of(f: &Formation) -> FormationView {
        let mut view = FormationView {
            kind: "",
            layout: "",
            title: None,
            items: Vec::new(),
            rows: Vec::new(),
            options: Vec::new(),
        };
        match &f.body {
            Body::Cards {
                layout,
                title,
                items,
            } => {
                view.kind = "cards";
                view.layout = match layout {
                    formation::Layout::Grid => "grid",
                    formation::Layout::Carousel => "carousel",
                    formation::Layout::List => "list",
                };
                view.title = title.clone();
                view.items = items.iter().map(ItemView::of).collect();
            }
            Body::Detail { item } => {
                view.kind = "detail";
                view.items = vec![ItemView::of(item)];
            }
            Body::Comparison { title, items, rows } => {
                view.kind = "comparison";
                view.title = title.clone();
                view.items = items.iter().map(ItemView::of).collect();
                view.rows = rows
                    .iter()
                    .map(|r| (r.name.clone(), r.values.clone()))
                    .collect();
            }
            Body::QuickReplies { options } => {
                view.kind = "quick_replies";
                view.options = options.clone();
            }
        }
        view
    }
}

pub struct SaidView {
    id: String,
    role: &'static str,
    role_code: &'static str,
    text: String,
    when: When,
    operator: Option<String>,
    formation: Option<FormationView>,
    /// "first token 420 ms · 812 + 64 tokens · cost 0.000213", for assistant replies.
    metrics: Vec<String>,
    status_note: Option<&'static str>,
}

fn said_view(c: &Talk, s: Said) -> SaidView {
    let mut metrics = Vec::new();
    if s.role == Role::Assistant {
        if let Some(ms) = s.first_token_ms {
            metrics.push(format!("{} {ms} ms", c.first_token_ms));
        }
        if let (Some(p), Some(k)) = (s.prompt_tokens, s.completion_tokens) {
            metrics.push(format!("{p} + {k} {}", c.tokens));
        }
        if let Some(cost) = s.cost_micros {
            metrics.push(format!("{} {:.6}", c.cost, cost as f64 / 1e6));
        }
        if let Some(r) = &s.responder {
            metrics.push(r.clone());
        }
    }
    SaidView {
        id: s.public_id,
        role: match s.role {
            Role::Visitor => c.role_visitor,
            Role::Assistant => c.role_assistant,
            Role::Operator => c.role_operator,
            Role::System => c.role_system,
        },
        role_code: s.role.as_str(),
        text: s.text,
        when: When::of(s.created_at),
        operator: s.operator_name,
        formation: s.formation.as_ref().map(FormationView::of),
        metrics,
        status_note: match s.status {
            MessageStatus::Complete => None,
            MessageStatus::Interrupted => Some(c.interrupted),
            MessageStatus::Failed => Some(c.failed),
        },
    }
}

#[derive(Template)]
#[template(path = "admin/transcript.html")]
struct TranscriptPage {
    t: &'static Text,
    c: &'static Talk,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    public_id: String,
    tenant_slug: String,
    tenant_name: String,
    status: &'static str,
    status_code: &'static str,
    assignee: Option<String>,
    page_url: Option<String>,
    page_text: String,
    started: When,
    updated: When,
    handed_over: Option<When>,
    said: Vec<SaidView>,
    truncated: bool,
    panel: Panel,
}

pub async fn transcript(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(public_id): Path<String>,
) -> Result<Response, ApiError> {
    page(&state, &admin, lang, &public_id, Draft::default()).await
}

/// The conversation's page: its transcript, and the team's panel with `draft` in its forms.
pub async fn page(
    state: &AppState,
    admin: &Admin,
    lang: Lang,
    public_id: &str,
    draft: Draft,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let c = t.talk;
    let (tenant, conv) = admin.conversation(state, public_id).await?;
    let panel = Panel::of(state, admin, t.live, (&tenant, &conv), draft).await?;
    let ids = vec![tenant.id];
    let public_id = public_id.to_owned();
    let (header, said): (Header, Vec<Said>) = state
        .db
        .read(move |db| conversation_list::transcript(db, &ids, &public_id))
        .await?;
    let truncated = said.len() as i64 >= conversation_list::TRANSCRIPT_LIMIT;
    render(&TranscriptPage {
        t,
        c,
        me: Some(Me::from(admin)),
        page: "conversations",
        css_version: css_version(),
        tenant_slug: tenant.slug.clone(),
        tenant_name: tenant.name.clone(),
        status: status_label(c, header.status),
        status_code: header.status.as_str(),
        assignee: header.assignee_name,
        page_text: header
            .page_title
            .clone()
            .or_else(|| header.page_url.clone())
            .unwrap_or_default(),
        page_url: web_link(&header.page_url),
        started: When::of(header.created_at),
        updated: When::of(header.updated_at),
        handed_over: header.handed_over_at.map(When::of),
        public_id: header.public_id,
        said: said.into_iter().map(|s| said_view(c, s)).collect(),
        truncated,
        panel,
    })
}
