//! Placeholder while the anthropic responder is written.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use super::{ReplyPart, Responder, ResponderError, Shared, Turn};

pub struct Anthropic {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl Anthropic {
    pub fn new(shared: Arc<Shared>) -> Anthropic {
        Anthropic { shared }
    }
}

impl Responder for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn respond(&self, _turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        stream::iter([Err(ResponderError::new("not_built", "in progress"))]).boxed()
    }
}
