//! The CA key on a PKCS#11 token (docs/pkcs11.md): finding the module and the token, logging in once, making
//! or importing the key as sensitive and never extractable, and signing with it through rcgen's
//! [`SigningKey`] trait. The key never leaves the token; only the PIN, read like a password, reaches it.

mod find;
mod key;
mod make;
mod session;
pub mod uri;

pub use find::{
    MODULE_ENV, ModuleOrigin, ModuleSearch, Token, TokenInfo, WELL_KNOWN_MODULES, open,
};
pub use key::TokenKey;
pub use session::{KeyProtection, LoggedIn};
pub use uri::{TokenUri, UriError};
