//! trace-merge as a library: the binary in `main.rs` is a thin shell over these modules, and
//! the fuzz targets and benchmarks drive the same code.
//!
//! Pipeline: [`input`] (files/stdin, line splitting) -> trace-format parsing -> [`pair`]
//! (per thread, reorder window) -> [`event::OpenEvent`] -> filters -> [`output`] (seed text;
//! columns, JSON, CSV, summary) -> [`report`] on stderr. [`info::TraceInfo`] carries the
//! trace's headers to the outputs; [`users`] names uids once each.

pub mod cli;
pub mod config;
pub mod error;
pub mod escape;
pub mod event;
pub mod info;
pub mod input;
pub mod interrupt;
pub mod output;
pub mod pair;
pub mod report;
pub mod run;
pub mod timefmt;
pub mod top_groups;
pub mod users;

pub mod chrome;
pub mod columns;
pub mod duration;
pub mod errno;
pub mod features;
pub mod filter;
pub mod format;
pub mod fuzzing;
pub mod generate;
pub mod heatmap;
pub mod latency;
pub mod merge;
pub mod progress;
pub mod reader_thread;
pub mod sort;
pub mod summary;
