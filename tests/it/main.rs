//! The one integration-test binary: the real `keepstar` binary in temp dirs, and the library.

mod app;
mod backup;
mod builtin;
mod cli;
mod conversation;
mod engine;
mod import;
mod keys;
mod schema;
mod support;
mod tenants;
mod widget_api;
