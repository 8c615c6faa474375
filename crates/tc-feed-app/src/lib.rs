//! The feed job behind the `tc-feed` command: configuration, state, one import, its report.
//!
//! This crate is being built up: the state and its lock come first, the job after the three
//! libraries.

pub mod cli;
pub mod commands;
pub mod config;
pub mod destination;
pub mod exit;
pub mod job;
pub mod lock;
pub mod progress;
pub mod reconcile;
pub mod report;
pub mod settings;
pub mod state;
pub mod summary;
