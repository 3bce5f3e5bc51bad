//! trace-merge as a library: the binary in `main.rs` is a thin shell over these modules, and
//! the fuzz targets and benchmarks drive the same code.
//!
//! Pipeline: input (files/stdin, line splitting) -> trace-format parsing -> pairing per thread
//! -> [`event::OpenEvent`] -> filters -> output (seed text, columns, JSON, CSV) or summary.

pub mod event;

pub mod columns;
pub mod duration;
pub mod errno;
pub mod filter;
pub mod format;
pub mod sort;
pub mod summary;
