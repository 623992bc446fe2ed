//! Placeholder while the n8n and webhook responders are written.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use super::{ReplyPart, Responder, ResponderError, Shared, Turn};

pub struct Hook {
    #[allow(dead_code)]
    shared: Arc<Shared>,
    name: &'static str,
}

impl Hook {
    pub fn n8n(shared: Arc<Shared>) -> Hook {
        Hook {
            shared,
            name: "n8n",
        }
    }
    pub fn webhook(shared: Arc<Shared>) -> Hook {
        Hook {
            shared,
            name: "webhook",
        }
    }
}

impl Responder for Hook {
    fn name(&self) -> &'static str {
        self.name
    }

    fn respond(&self, _turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        stream::iter([Err(ResponderError::new("not_built", "in progress"))]).boxed()
    }
}
