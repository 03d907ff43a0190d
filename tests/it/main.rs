//! The one integration-test binary: runs the built `customs` like a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod action;
mod advisories;
mod check;
mod cli;
mod common;
mod diff;
mod env;
mod faults;
mod generated;
mod index;
mod install;
mod inventory;
mod malformed;
mod pipeline;
mod policy;
mod provenance;
mod ranges;
mod report;
mod rules;
mod scan;
mod secrets;
mod server;
