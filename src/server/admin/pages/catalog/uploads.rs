//! Uploaded files between their preview and their import: kept under the data dir as
//! `uploads/<token>`, a line of JSON saying whose and what they are, then the file's text.
//! A token is 32 random characters; files older than an hour are swept at the next upload.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use axum::extract::Multipart;
use serde::{Deserialize, Serialize};

use crate::token;

/// The largest file the admin takes.
pub const MAX_BYTES: usize = 32 << 20;
const KEPT_FOR: Duration = Duration::from_secs(60 * 60);
const TOKEN_CHARS: usize = 32;

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Catalog,
    Kb,
}

#[derive(Serialize, Deserialize)]
pub struct Meta {
    pub tenant: i64,
    pub kind: Kind,
    /// The file's name as the browser sent it (its extension tells the format).
    pub name: String,
    pub replace: bool,
}

pub struct Upload {
    pub meta: Meta,
    pub content: String,
}

/// Why a form's upload was not taken: each is shown beside the file field.
pub enum Refusal {
    NoFile,
    TooLarge,
    NotText,
}

/// The file and the "replace" box from a multipart form.
pub async fn read(mut form: Multipart) -> Result<(String, String, bool), Refusal> {
    let (mut file, mut replace) = (None, false);
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Refusal::TooLarge);
            }
            Err(_) => return Err(Refusal::NoFile),
        };
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        Refusal::TooLarge
                    } else {
                        Refusal::NoFile
                    }
                })?;
                if !(name.is_empty() && bytes.is_empty()) {
                    file = Some((name, bytes));
                }
            }
            Some("replace") => replace = true,
            _ => {}
        }
    }
    let (name, bytes) = file.ok_or(Refusal::NoFile)?;
    if bytes.len() > MAX_BYTES {
        return Err(Refusal::TooLarge);
    }
    let content = String::from_utf8(bytes.to_vec()).map_err(|_| Refusal::NotText)?;
    Ok((name, content, replace))
}

fn dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("uploads")
}

/// Keeps the file; returns its token.
pub async fn keep(data_dir: PathBuf, upload: Upload) -> std::io::Result<String> {
    tokio::task::spawn_blocking(move || {
        let dir = dir(&data_dir);
        std::fs::create_dir_all(&dir)?;
        sweep(&dir);
        let token = token::random_base62(TOKEN_CHARS);
        let mut text = serde_json::to_string(&upload.meta).map_err(std::io::Error::other)?;
        text.push('\n');
        text.push_str(&upload.content);
        // Written under a temporary name first, so a half-written file is never read.
        let partial = dir.join(format!(".{token}"));
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, dir.join(&token))?;
        Ok(token)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The upload `token` names, if it is still kept.
pub async fn find(data_dir: PathBuf, token: String) -> std::io::Result<Option<Upload>> {
    if token.len() != TOKEN_CHARS || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    tokio::task::spawn_blocking(move || {
        let path = dir(&data_dir).join(&token);
        let expired = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| {
                SystemTime::now()
                    .duration_since(t)
                    .is_ok_and(|age| age > KEPT_FOR)
            });
        if expired {
            return Ok(None);
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let (meta, content) = text.split_once('\n').unwrap_or((&text, ""));
        Ok(serde_json::from_str(meta).ok().map(|meta| Upload {
            meta,
            content: content.to_owned(),
        }))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Forgets the upload (once imported).
pub async fn forget(data_dir: PathBuf, token: String) {
    let _ =
        tokio::task::spawn_blocking(move || std::fs::remove_file(dir(&data_dir).join(token))).await;
}

/// Removes the uploads older than [`KEPT_FOR`].
fn sweep(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > KEPT_FOR));
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
