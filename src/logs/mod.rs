//! `CloudWatch` Logs, offline: the filter pattern language that metric filters,
//! subscription filters, `FilterLogEvents` and Live Tail use, parsed and evaluated in
//! pure code (no AWS call). See [`pattern`].

pub mod insights;
pub mod pattern;
