//! What a hook call sends: the visitor's message, and the n8n JWT or the webhook signature that
//! vouches for it (the README's "Who answers" says what each holds).

use aws_lc_rs::hmac;
use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use serde_json::json;

use super::Kind;
use crate::chat::responders::Turn;
use crate::vocab::Secret;

/// How long an n8n JWT is valid: long enough for clock skew, too short to be replayed later.
const JWT_TTL_SECS: u64 = 60;

/// The header with the Unix time (seconds) a webhook request was signed at.
pub const TIMESTAMP_HEADER: &str = "x-keepstar-timestamp";
/// The header with a webhook request's signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-keepstar-signature";

/// One visitor message on its way out: the body is made once, so every retry sends the same bytes.
pub(super) struct Request<'a> {
    kind: Kind,
    turn: &'a Turn,
    visitor: &'a str,
    key: Option<&'a Secret>,
    body: Bytes,
}

impl<'a> Request<'a> {
    pub(super) fn new(
        kind: Kind,
        turn: &'a Turn,
        visitor: &'a str,
        key: Option<&'a Secret>,
    ) -> Request<'a> {
        Request {
            kind,
            turn,
            visitor,
            key,
            body: body(turn, visitor),
        }
    }

    /// One attempt's request, signed afresh, so a retry carries a new timestamp and expiry.
    pub(super) fn build(&self, client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        let request = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(
                ACCEPT,
                "application/json, application/x-ndjson, text/plain;q=0.5",
            )
            .body(self.body.clone());
        match (self.kind, self.key) {
            (_, None) => request,
            (Kind::N8n, Some(key)) => {
                request.header(AUTHORIZATION, format!("Bearer {}", self.jwt(key)))
            }
            (Kind::Webhook, Some(key)) => {
                let now = jsonwebtoken::get_current_timestamp();
                let signature = webhook_signature(key.expose().as_bytes(), now, &self.body);
                request
                    .header(TIMESTAMP_HEADER, now.to_string())
                    .header(SIGNATURE_HEADER, signature)
            }
        }
    }

    fn jwt(&self, key: &Secret) -> String {
        let turn = self.turn;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: "keepstar",
            aud: "n8n",
            sub: &turn.conversation.public_id,
            tenant: &turn.tenant.slug,
            visitor: self.visitor,
            page: turn.page.url.as_deref(),
            iat: now,
            exp: now + JWT_TTL_SECS,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key.expose().as_bytes()),
        )
        .expect("HS256 signing cannot fail")
    }
}

fn body(turn: &Turn, visitor: &str) -> Bytes {
    let conversation = &turn.conversation.public_id;
    json!({
        "action": "sendMessage",
        "sessionId": conversation,
        "chatInput": turn.text,
        "metadata": {
            "tenant": turn.tenant.slug,
            "visitor": visitor,
            "conversation": conversation,
            "message": turn.message_id,
            "locale": turn.tenant.locale.as_str(),
            "page": { "url": turn.page.url, "title": turn.page.title },
        },
    })
    .to_string()
    .into()
}

/// The [`SIGNATURE_HEADER`] of a webhook `body` sent at `timestamp`, keyed with the tenant's key.
pub fn webhook_signature(key: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("sha256={}", hex(ctx.sign().as_ref()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]])
        .map(char::from)
        .collect()
}

/// The claims of the JWT an n8n call carries.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'static str,
    aud: &'static str,
    /// The conversation, as in the body's `sessionId`.
    sub: &'a str,
    tenant: &'a str,
    visitor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a str>,
    iat: u64,
    exp: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        // RFC 4231 test case 2: the hex is lower case and whole.
        assert_eq!(
            hex(hmac::sign(&key, b"what do ya want for nothing?").as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let tag = hmac::sign(&key, b"1700000000.{\"a\":1}");
        assert_eq!(
            webhook_signature(b"Jefe", 1_700_000_000, b"{\"a\":1}"),
            format!("sha256={}", hex(tag.as_ref()))
        );
    }
}
