//! `certkit-export kit`: a consumer's files made from the CA, checked against its rules, then written whole;
//! `kit --refresh DIR` brings a kit up to date after a renewal or a revocation. The request and what a new kit
//! and a refresh share; `make` and `refresh` are the two bodies, `report` what they print, `edits` the policy
//! and service configuration edits.

mod edits;
mod make;
mod refresh;
mod report;
mod request;

pub use report::{CscfgLine, FileLine, KitReport, PolicyLine, ServerLine};
pub use request::{KitJob, KitRequest, NewKit};

use certkit_ca::Result;

/// Runs `kit`.
pub fn run(req: KitRequest) -> Result<()> {
    match &req.job {
        KitJob::New(new) => make::make(new, &req),
        KitJob::Refresh(dir) => refresh::refresh(dir, &req),
    }
}
