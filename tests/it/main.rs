//! The one integration-test binary: the real `keepstar` binary in temp dirs, and the library.

mod backup;
mod cli;
mod keys;
mod schema;
mod support;
mod tenants;
