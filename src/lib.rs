//! keepstar: a self-hosted AI chat widget appliance. The binary and the tests share this library.

pub mod accounts;
pub mod chat;
pub mod cli;
pub mod config;
pub mod demo;
pub mod formation;
pub mod import;
pub mod money;
pub mod origin;
pub mod seal;
pub mod server;
pub mod store;
pub mod strings;
pub mod sync;
pub mod text;
pub mod token;
pub mod vocab;
