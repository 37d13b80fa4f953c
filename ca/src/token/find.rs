//! Finding the PKCS#11 module and the token in it that a URI names, and the one-line messages for what a
//! token refuses.

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use serde::Serialize;

use super::uri::TokenUri;
use crate::error::{Error, Result};

/// The environment variable that names the PKCS#11 module when `--pkcs11-module` is not given.
pub const MODULE_ENV: &str = "CERTKIT_PKCS11_MODULE";

/// Where certkit looks for a module when none is named or recorded: SoftHSM2, OpenSC (smart cards and most
/// USB tokens) and Yubico's ykcs11, as Debian, Fedora and Homebrew install them.
pub const WELL_KNOWN_MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib64/opensc-pkcs11.so",
    "/usr/local/lib/opensc-pkcs11.so",
    "/opt/homebrew/lib/opensc-pkcs11.so",
    "/usr/lib/x86_64-linux-gnu/libykcs11.so",
    "/usr/lib/aarch64-linux-gnu/libykcs11.so",
    "/usr/lib64/libykcs11.so",
    "/usr/local/lib/libykcs11.so",
    "/opt/homebrew/lib/libykcs11.dylib",
];

/// Why certkit chose the module it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleOrigin {
    /// `--pkcs11-module`.
    Flag,
    /// [`MODULE_ENV`].
    Environment,
    /// The URI's `module-path`.
    Uri,
    /// Recorded in the CA folder at init.
    Recorded,
    /// Found among [`WELL_KNOWN_MODULES`].
    WellKnown,
}

impl ModuleOrigin {
    /// How `show` says it.
    pub fn describe(self) -> &'static str {
        match self {
            ModuleOrigin::Flag => "given with --pkcs11-module",
            ModuleOrigin::Environment => "from CERTKIT_PKCS11_MODULE",
            ModuleOrigin::Uri => "from the URI's module-path",
            ModuleOrigin::Recorded => "recorded at init",
            ModuleOrigin::WellKnown => "found in a well-known place",
        }
    }
}

/// The places to find the module, in the order they are tried: the flag, the environment, the URI, the
/// record, the well-known paths. The first three are a choice: if the module named there fails, that is the
/// error. The record and the well-known paths are a search for the module that has the token.
#[derive(Clone, Debug, Default)]
pub struct ModuleSearch {
    /// `--pkcs11-module`.
    pub flag: Option<PathBuf>,
    /// The value of [`MODULE_ENV`].
    pub env: Option<PathBuf>,
    /// The module recorded in the CA folder.
    pub recorded: Option<PathBuf>,
}

impl ModuleSearch {
    /// A search with the flag given (if any), [`MODULE_ENV`] as set now, and the recorded module (if any).
    pub fn new(flag: Option<&Path>, recorded: Option<&Path>) -> Self {
        ModuleSearch {
            flag: flag.map(Path::to_path_buf),
            env: std::env::var_os(MODULE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            recorded: recorded.map(Path::to_path_buf),
        }
    }

    /// The module the user named (the flag, else the environment variable), which is used before anything a
    /// CA folder records.
    pub fn user_choice(&self) -> Option<&Path> {
        self.flag.as_deref().or(self.env.as_deref())
    }
}

/// A token's identity, as its module reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The token's label.
    pub label: String,
    /// The token's serial number.
    pub serial: String,
    /// The token's manufacturer.
    pub manufacturer: String,
    /// The token's model.
    pub model: String,
}

/// A token found through its module, not yet logged in.
pub struct Token {
    pub(super) ctx: Pkcs11,
    pub(super) slot: Slot,
    /// The module's path.
    pub module: PathBuf,
    /// Why that module.
    pub origin: ModuleOrigin,
    /// Which token.
    pub info: TokenInfo,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("module", &self.module)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A one-line message for a PKCS#11 failure while doing `doing`.
pub(super) fn failed(doing: &str, err: CkError) -> Error {
    let detail = match &err {
        CkError::Pkcs11(rv, _) => match rv {
            RvError::PinIncorrect => {
                return Error::Token(
                    "the token refused the PIN; check it (--ca-pass or --pin) and try again. certkit never retries: tokens lock after a few wrong PINs".into(),
                );
            }
            RvError::PinLocked => {
                return Error::Token(
                    "the token's user PIN is locked after too many wrong tries; unlock it with the SO PIN (e.g. pkcs11-tool --init-pin --login --login-type so)".into(),
                );
            }
            RvError::PinExpired => {
                return Error::Token(
                    "the token's user PIN has expired; set a new one with the token's tools (e.g. pkcs11-tool --change-pin)".into(),
                );
            }
            RvError::UserPinNotInitialized => {
                return Error::Token(
                    "the token has no user PIN yet; initialise it (e.g. softhsm2-util --init-token, or pkcs11-tool --init-pin)".into(),
                );
            }
            RvError::TokenNotPresent | RvError::DeviceRemoved => {
                return Error::Token(
                    "the token was removed; plug it in and run the command again".into(),
                );
            }
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    };
    Error::Token(format!("PKCS#11: {doing} failed ({detail})"))
}

pub(super) fn trimmed(text: &str) -> String {
    text.trim_end_matches([' ', '\0']).to_string()
}

/// Loads `module` and returns the token in it that `uri` names: `Ok(None)` when the module has no such token.
fn find_in(module: &Path, origin: ModuleOrigin, uri: &TokenUri) -> Result<Option<Token>> {
    if !module.is_file() {
        return Err(Error::Token(format!(
            "PKCS#11 module {} not found; give the module's path with --pkcs11-module or {MODULE_ENV}",
            module.display()
        )));
    }
    let ctx = Pkcs11::new(module).map_err(|e| {
        Error::Token(format!(
            "cannot load the PKCS#11 module {} ({e}); give a module built for this machine with --pkcs11-module",
            module.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(&format!("initialising {}", module.display()), e)),
    }
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| failed("listing the tokens", e))?;
    let mut found = Vec::new();
    for slot in slots {
        let Ok(token) = ctx.get_token_info(slot) else {
            continue;
        };
        let info = TokenInfo {
            label: trimmed(token.label()),
            serial: trimmed(token.serial_number()),
            manufacturer: trimmed(token.manufacturer_id()),
            model: trimmed(token.model()),
        };
        let matches =
            |wanted: &Option<String>, have: &str| wanted.as_deref().is_none_or(|w| w == have);
        if matches(&uri.token, &info.label)
            && matches(&uri.serial, &info.serial)
            && matches(&uri.manufacturer, &info.manufacturer)
            && matches(&uri.model, &info.model)
        {
            found.push((slot, info));
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => {
            let (slot, info) = found.remove(0);
            Ok(Some(Token {
                ctx,
                slot,
                module: module.to_path_buf(),
                origin,
                info,
            }))
        }
        _ => Err(Error::Token(format!(
            "several tokens in {} match {uri}: {}; add serial= to the URI",
            module.display(),
            found
                .iter()
                .map(|(_, i)| format!("'{}' (serial {})", i.label, i.serial))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn tokens_named(uri: &TokenUri) -> String {
    match &uri.token {
        Some(label) => format!("no token labelled '{label}'"),
        None => "no token".into(),
    }
}

/// Finds the module and the token that `uri` names (see [`ModuleSearch`]).
pub fn open(search: &ModuleSearch, uri: &TokenUri) -> Result<Token> {
    let chosen = [
        (search.flag.as_ref(), ModuleOrigin::Flag),
        (search.env.as_ref(), ModuleOrigin::Environment),
        (uri.module_path.as_ref(), ModuleOrigin::Uri),
    ];
    if let Some((Some(module), origin)) = chosen.into_iter().find(|(m, _)| m.is_some()) {
        return find_in(module, origin, uri)?.ok_or_else(|| {
            Error::Token(format!(
                "{} in the PKCS#11 module {} ({}); check the URI, or list the tokens with pkcs11-tool --module {} --list-token-slots",
                tokens_named(uri),
                module.display(),
                origin.describe(),
                module.display()
            ))
        });
    }
    let mut tried = Vec::new();
    let recorded = search
        .recorded
        .iter()
        .filter(|m| m.is_file())
        .map(|m| (m.as_path(), ModuleOrigin::Recorded));
    let known = WELL_KNOWN_MODULES
        .iter()
        .map(Path::new)
        .filter(|m| m.is_file())
        .map(|m| (m, ModuleOrigin::WellKnown));
    for (module, origin) in recorded.chain(known) {
        match find_in(module, origin, uri) {
            Ok(Some(token)) => return Ok(token),
            Ok(None) | Err(Error::Token(_)) => tried.push(module.display().to_string()),
            Err(other) => return Err(other),
        }
    }
    let looked = if tried.is_empty() {
        "no PKCS#11 module is installed in a well-known place".to_string()
    } else {
        format!("looked in {}", tried.join(", "))
    };
    Err(Error::Token(format!(
        "{} found ({looked}); give the module with --pkcs11-module PATH or {MODULE_ENV}",
        tokens_named(uri)
    )))
}
