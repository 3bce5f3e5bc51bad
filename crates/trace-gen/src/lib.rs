//! trace-gen as a library: the typed script specification, the backends that render it, and
//! the runner that drives a tracer. The binary (`main.rs`) is a thin layer over this, and the
//! tests call the script builders directly.
//!
//! No `unsafe` outside `sys`, the one module that calls libc, each call with its safety
//! argument.

#![deny(unsafe_code)]

pub mod backend;
pub mod cgroup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod generate;
pub mod run;
pub mod script;
#[allow(unsafe_code)]
mod sys;
