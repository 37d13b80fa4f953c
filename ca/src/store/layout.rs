//! The names of the files in a CA folder (docs/store-format.md).

/// The CA certificate, DER (what Windows imports as .cer).
pub const CA_CER: &str = "ca.cer";
/// The CA certificate, PEM.
pub const CA_PEM: &str = "ca.pem";
/// The CA private key, encrypted PKCS#8 PEM.
pub const CA_KEY: &str = "ca.key";
/// The request of a CA that waits for the CA above it to sign its certificate (`init --request`).
pub const CA_REQUEST: &str = "ca.csr";
/// The CA certificates above this one, from the one that signed it to the root, PEM (`install`).
pub const CHAIN_PEM: &str = "chain.pem";
/// The CA's keys by key identifier, `keys/SKI.key` (encrypted PKCS#8 PEM), once the CA was re-keyed: the
/// current one (`ca.key` is its copy) and the earlier ones kept to sign CRLs.
pub const KEYS_DIR: &str = "keys";
/// The CA's earlier certificates and its cross-certificates, `history/SERIAL.cer`.
pub const HISTORY_DIR: &str = "history";
/// The CA's settings.
pub const CA_SETTINGS: &str = "ca.json";
/// A settings change staged until the CA key has signed it (docs/store-format.md).
pub const CA_SETTINGS_NEXT: &str = "ca.json.new";
/// The issuance log.
pub const INVENTORY: &str = "inventory.jsonl";
/// Where an upgrade keeps the certkit 0.1 inventory it rewrote.
pub const INVENTORY_V1: &str = "inventory.v1.jsonl";
/// Folder of issued certificate copies.
pub const ISSUED_DIR: &str = "issued";
/// Last CRL number issued.
pub const CRL_NUMBER: &str = "crlnumber";
/// The lock file.
pub const LOCK: &str = ".lock";
/// Names of temporary files of interrupted writes start with this.
pub use crate::files::TEMP_PREFIX;

/// The files whose presence means "a CA lives here".
pub const CA_FILES: [&str; 5] = [CA_KEY, CA_CER, CA_PEM, CA_SETTINGS, INVENTORY];
