//! CAs kept by OpenSSL's `openssl ca` and the programs built on it (easy-rsa, XCA's index export): their
//! `index.txt` read and written (`index_txt`), the part of `openssl.cnf` that says where their files are
//! (`config`), their folders read without ever writing or following a link out (`source`), and every line
//! checked against its certificate before anything is imported (`check`). `certkit-ca import` brings such a CA
//! in (docs/import.md); `certkit-ca export-index` writes a certkit CA's history back in this form (`export`).

pub mod check;
pub mod config;
pub mod export;
pub mod index_txt;
pub mod source;
