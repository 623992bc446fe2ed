//! Placeholder while the openai responder is written.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use super::{ReplyPart, Responder, ResponderError, Shared, Turn};

pub struct OpenAi {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl OpenAi {
    pub fn new(shared: Arc<Shared>) -> OpenAi {
        OpenAi { shared }
    }
}

impl Responder for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn respond(&self, _turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        stream::iter([Err(ResponderError::new("not_built", "in progress"))]).boxed()
    }
}
