//! certkit-export's command bodies: each takes a validated request, calls the libraries, and renders one
//! report.

pub mod cer;
pub mod cscfg;
pub mod inspect;
pub mod kit;
pub mod pfx;
pub mod thumbprint;
pub mod tls12;
