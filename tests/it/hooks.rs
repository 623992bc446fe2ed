//! The n8n and webhook responders against fake endpoints.
