//! The conversation engine, the one door into a conversation: it opens visitor sessions, takes
//! visitors' and operators' messages, runs the tenant's responder, hands out each conversation's
//! event stream, and moves a conversation between the AI and the team. The widget API, the admin
//! and the tenant API are transports over it.

pub mod bus;
pub mod cards;
pub mod event;
mod handoff;
mod messages;
pub mod responders;
mod session;
mod stream;
mod team;
mod turn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::bus::EventBus;
use crate::store::{Db, StoreError};

pub use self::handoff::{Operator, Takeover};
pub use self::messages::{Incoming, MAX_CLIENT_ID, MAX_HISTORY_PAGE, Posted, Transcript};
pub use self::responders::Responders;
pub use self::session::{Opened, Opening, TeamNow};
pub use self::stream::Delivery;

/// Why the engine refused: each maps to one status and `code` at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// An unknown tenant and a wrong key are told apart nowhere, so neither can be probed.
    #[error("unknown tenant or key")]
    UnknownKey,
    #[error("this site may not use this chat")]
    OriginNotAllowed,
    /// The request is understood but cannot be taken as it is.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The conversation is not in a state that allows this.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Another member of the team is answering the conversation.
    #[error("{by} is answering this conversation.")]
    Taken { by: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ChatError {
    fn invalid(code: &'static str, message: impl Into<String>) -> ChatError {
        ChatError::Invalid {
            code,
            message: message.into(),
        }
    }
}

/// The longest visitor or operator message taken, in characters, unless set otherwise.
pub const MAX_MESSAGE_CHARS: usize = 4000;

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: Arc<dyn EventBus>,
    responders: Arc<dyn Responders>,
    max_message_chars: usize,
    /// Turns run one at a time per conversation, in the order messages arrived.
    turn_locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    turns: TaskTracker,
    shutdown: CancellationToken,
    team: team::Team,
}

impl Engine {
    pub fn new(
        db: Db,
        bus: Arc<dyn EventBus>,
        responders: Arc<dyn Responders>,
        shutdown: CancellationToken,
    ) -> Engine {
        Engine::with_max_message_chars(db, bus, responders, shutdown, MAX_MESSAGE_CHARS)
    }

    /// An engine that takes messages of up to `max_message_chars` characters.
    pub fn with_max_message_chars(
        db: Db,
        bus: Arc<dyn EventBus>,
        responders: Arc<dyn Responders>,
        shutdown: CancellationToken,
        max_message_chars: usize,
    ) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                db,
                bus,
                responders,
                max_message_chars,
                turn_locks: Mutex::new(HashMap::new()),
                turns: TaskTracker::new(),
                shutdown,
                team: team::Team::default(),
            }),
        }
    }

    /// Forgets what the bus no longer needs to hold (see [`EventBus::sweep`]).
    pub fn sweep(&self, idle_us: u64) {
        self.inner.bus.sweep(idle_us);
    }

    /// Waits (up to the caller's deadline) for running turns to store what they have.
    pub async fn drain(&self) {
        self.inner.turns.close();
        self.inner.turns.wait().await;
    }
}
