//! OCSP (RFC 6960, with RFC 5019's lightweight profile): the CA signs the responses ahead, one file per window
//! (`certkit-ca ocsp`), and a responder that holds no key serves them (`certkit-ca ocsp serve`).

pub mod request;
pub mod responder;
pub mod response;
pub mod series;
pub mod serve;
mod signing;
pub mod window;
