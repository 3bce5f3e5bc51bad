//! trace-merge's integration tests, one binary (as ripgrep does: faster to link, one place
//! for shared helpers). Each module is one theme:
//!
//! - `cli`: the core behaviour (standard text output, pairing, users, streaming, reports);
//! - `details`: the version-2 details (resolved paths, flags, cgroups, killed opens) in every
//!   option and format, and version-1 traces printed byte for byte as before;
//! - `options`: filters, columns, formats, sorting, summaries, several inputs;
//! - `hostile`: the hostile corpus in tests/data/hostile (nothing panics, all counted);
//! - `hostile_names`: trace-gen's real output on the hostile-name corpus, printed
//!   unambiguously by every format;
//! - `terminal_safety`: control and bidi characters never reach a terminal raw;
//! - `bounds`: memory stays bounded with millions of threads in flight;
//! - `restarted`: opens a signal interrupted (-512..-516) are restarted, not failed;
//! - `unknown_user`: `-u` with a name nobody has is an error;
//! - `pictures`: `--format chrome` read back open by open, `--heatmap` as XML and as pixels
//!   in a headless-Chromium screenshot (on traces from `opens_corpus`);
//! - `recipes`: the README's DuckDB recipes run as written, their numbers against `--summary`;
//! - `version`: `--version` and the man page name the git commit of the build.

mod common;

mod bounds;
mod cli;
mod details;
mod hostile;
mod hostile_names;
mod opens_corpus;
mod options;
mod pictures;
mod recipes;
mod restarted;
mod terminal_safety;
mod unknown_user;
mod version;
