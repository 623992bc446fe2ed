//! The one integration-test binary: the real `keepstar` binary in temp dirs, and the library.

mod anthropic;
mod app;
mod backup;
mod builtin;
mod cli;
mod conversation;
mod engine;
mod fake;
mod hooks;
mod import;
mod keys;
mod layers;
mod limits;
mod openai;
mod providers;
mod schema;
mod support;
mod tenants;
mod widget_api;
