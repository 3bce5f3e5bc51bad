//! `trace-tools` is the workspace root: it holds no code of its own.
//!
//! It exists so that `tests/` (the end-to-end tests of `trace-gen | trace-merge` against the
//! real tracers, and the fixtures in `tests/data/` that every crate shares) belongs to a
//! package. The tools live in `crates/`.
