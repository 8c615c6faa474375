//! The feed job behind the `tc-feed` command: configuration, state, one import, its report.
//!
//! This crate is being built up; the job comes after the three libraries.
