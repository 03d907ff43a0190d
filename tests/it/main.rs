//! The one integration-test binary: runs the built `customs` like a user would.

mod cli;
mod common;
mod report;
