//! The openai responder against a fake chat-completions API.
