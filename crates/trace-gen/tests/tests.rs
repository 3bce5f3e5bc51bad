//! trace-gen's integration tests, one binary (faster to link, one place for helpers). Each
//! module is one theme; none needs root (the end-to-end tests with the real kernel are in the
//! workspace's tests/):
//!
//! - `cli`: `--print-script`, usage errors, a missing tracer, a non-root user, no tracefs;
//! - `scripts`: every SystemTap script elaborated by `stap -p2`, the golden D and stap scripts;
//! - `injection`: hostile option values refused, or one literal in every backend's script;
//! - `generate`: the man page and shell completions;
//! - `version`: `--version` and the man page name the git commit of the build.
//!
//! `common` holds the helpers they share.

mod cli;
mod common;
mod generate;
mod injection;
mod scripts;
mod version;
