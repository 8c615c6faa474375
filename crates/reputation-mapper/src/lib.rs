//! Pure mapping from ET Intelligence reputation rows to ThreatConnect indicators.
//!
//! Rows from `proofpoint-et-client` become batch indicators of `threatconnect-client`, grouped
//! per value, filtered, rated, fingerprinted and diffed against the previous import. No I/O,
//! no HTTP client, no async runtime: the crate's dependency list proves it.
//!
//! This crate is being built up.
