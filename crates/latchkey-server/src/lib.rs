//! Latchkey's HTTP front end and command line: the only crate that knows HTTP.
//!
//! [`build`] starts the real server (tests call it with `127.0.0.1:0`); [`cli`] is the `latchkey` command.

mod app;
pub mod cli;
mod commands;
pub mod config;
mod demo;
mod flow;
mod http_error;
mod middleware;
mod pages;
mod routes;
mod session;

pub use app::{build, build_with_clock, RunningServer, StartError};
pub use config::{Config, Issuer, LogFormat};
