//! certkit-issue's command bodies: each takes a validated request, runs the issuance engine, and renders
//! one report.

pub mod batch;
pub mod issue;
pub mod renew;
pub mod sign;

mod ca;
mod report;
