//! keepstar: a self-hosted AI chat widget appliance. The binary and the tests share this library.

pub mod cli;
pub mod config;
pub mod origin;
pub mod store;
pub mod token;
