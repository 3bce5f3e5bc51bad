//! The bpftrace backend (written next).
