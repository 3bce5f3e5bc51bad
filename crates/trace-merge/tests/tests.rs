//! trace-merge's integration tests, one binary (as ripgrep does: faster to link, one place
//! for shared helpers). Each module is one theme:
//!
//! - `cli`: the core behaviour of issue 3 (seed output, pairing, users, streaming, reports);
//! - `features`: filters, columns, formats, sorting, summaries, several inputs;
//! - `hostile`: the hostile corpus in tests/data/hostile (nothing panics, all counted);
//! - `terminal_safety`: control and bidi characters never reach a terminal raw;
//! - `bounds`: memory stays bounded with millions of threads in flight.

mod common;

mod bounds;
mod cli;
mod features;
mod hostile;
mod terminal_safety;
