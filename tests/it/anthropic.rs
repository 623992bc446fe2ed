//! The anthropic responder against a fake Messages API.
