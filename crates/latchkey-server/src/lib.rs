//! Latchkey's HTTP front end and command line: the only crate that knows HTTP. Routes extract typed input,
//! call the endpoint layer (`latchkey_endpoints`) and render its answer; failures become responses in one
//! place per surface (`error`).
//!
//! [`build`] starts the real server (tests call it with `127.0.0.1:0`); [`cli`] and [`commands`] are the
//! `latchkey` command.

mod app;
pub mod cli;
pub mod client_address;
pub mod commands;
pub mod config;
mod error;
mod http;
mod metrics;
mod middleware;
mod pages;
mod routes;

pub use app::{build, build_with_clock, RunningServer, StartError};
pub use config::{Config, LogFormat};
pub use latchkey_core::Issuer;
