//! The one integration-test binary: the real `keepstar` binary in temp dirs, and the library.

mod admin;
mod admin_catalog;
mod admin_conversations;
mod admin_team;
mod admin_tenants;
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
mod inbox;
mod keys;
mod layers;
mod limits;
mod openai;
mod panics;
mod providers;
mod schema;
mod support;
mod tenants;
mod widget_api;
