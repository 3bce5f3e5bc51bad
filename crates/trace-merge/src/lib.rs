//! trace-merge as a library: the binary in `main.rs` is a thin shell over [`cli`], [`config`]
//! and [`run`]; the fuzz targets drive the same code through [`fuzzing`]. Everything else is
//! private: see ARCHITECTURE.md at the repository's root for the data flow.
//!
//! Pipeline: `input` (files/stdin, reader thread, line splitting) -> trace-format parsing ->
//! `pair` (per thread, reorder window) -> `event::OpenEvent` -> `output` (unfinished,
//! filters, `--top`, `--sort`) -> `printer` (text, table, JSON, CSV, summary) -> `report` on
//! stderr. `info::TraceInfo` carries the trace's headers to the printers; `users` names uids
//! once each.

pub mod cli;
pub mod config;
pub mod error;
pub mod fuzzing;
pub mod generate;
pub mod interrupt;
pub mod run;

mod columns;
mod details;
mod duration;
mod errno;
mod escape;
mod event;
mod filter;
mod info;
mod input;
mod latency;
mod merge;
mod number;
mod output;
mod pair;
mod printer;
mod progress;
mod reader_thread;
mod report;
mod sort;
mod top_groups;
mod users;
