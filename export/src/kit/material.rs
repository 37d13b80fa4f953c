//! What a kit is made of, read from the CA folder without its key: the CA certificates clients chain to, the
//! CRLs in force, the valid client certificates, and the server certificate a kit carries with its key.

use std::path::{Path, PathBuf};

use certkit_ca::crl::publish;
use certkit_ca::crl_file::CrlFile;
use certkit_ca::profile::Profile;
use certkit_ca::store::CaStore;
use certkit_ca::store::index::ListFilter;
use certkit_ca::store::inventory::{Entry, Status};
use certkit_ca::{CertInfo, Error, Result, Secret, Thumbprint};
use openssl::pkey::{PKey, Private};
use time::OffsetDateTime;

use crate::inspect::cert::CertFacts;
use crate::sources;

/// One CA whose clients a kit trusts: its certificate and the CRL in force it signed.
#[derive(Clone, Debug)]
pub struct TrustedCa {
    /// The CA certificate.
    pub cert: CertInfo,
    /// The CRL this CA's key signed that is in force now, if one was found.
    pub crl: Option<CrlFile>,
}

/// A valid client certificate of the CA.
#[derive(Clone, Debug)]
pub struct ClientCert {
    /// Its SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// Its subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// Whether it names an OCSP responder.
    pub has_ocsp: bool,
    /// Whether it names a CRL distribution point.
    pub has_crl: bool,
}

/// What the CA folder gives a kit.
#[derive(Debug)]
pub struct CaMaterial {
    /// The CA folder, absolute.
    pub dir: PathBuf,
    /// The CA's certificate and every earlier key's that still has valid certificates, newest first: the CAs
    /// client certificates of this CA are issued by.
    pub issuers: Vec<TrustedCa>,
    /// The CAs above (an issuing CA's parent up to the root), root last, with the CRLs given for them.
    pub above: Vec<TrustedCa>,
    /// The valid client certificates, oldest first.
    pub clients: Vec<ClientCert>,
    /// The OCSP responder the CA puts in what it signs now.
    pub ocsp_url: Option<String>,
    /// The CRL URL the CA puts in what it signs now.
    pub crl_url: Option<String>,
}

impl CaMaterial {
    /// Reads the CA in `store` at `now`. `extra_crls` are CRL files for CAs above (a root's CRL, for an
    /// issuing CA's kit): each must be signed by one of them and in force.
    pub fn read(
        store: &CaStore,
        extra_crls: &[PathBuf],
        now: OffsetDateTime,
    ) -> Result<CaMaterial> {
        let dir = certkit_ca::store::guard::resolve(store.dir());
        let cert = store.cert()?;
        let above_certs = store.chain_above(&cert)?;
        let mut issuers = vec![TrustedCa {
            crl: crl_in_force(&dir, &cert, now)?,
            cert: cert.clone(),
        }];
        for earlier in earlier_issuers(store, &cert, now)? {
            issuers.push(TrustedCa {
                crl: crl_in_force(&dir, &earlier, now)?,
                cert: earlier,
            });
        }
        let mut above: Vec<TrustedCa> = above_certs
            .into_iter()
            .map(|cert| TrustedCa { cert, crl: None })
            .collect();
        for path in extra_crls {
            let crl = CrlFile::read(path)?;
            let Some(ca) = above
                .iter_mut()
                .chain(issuers.iter_mut())
                .find(|ca| crl.signed_by(&ca.cert))
            else {
                return Err(Error::BadInput(format!(
                    "{} is not signed by {} or a CA above it; give the CRL of a CA in this CA's chain",
                    path.display(),
                    cert.subject
                )));
            };
            if !crl.current_at(now) {
                return Err(Error::BadInput(format!(
                    "{} is not in force now (thisUpdate {}, nextUpdate {}); give the CRL {} signed last",
                    path.display(),
                    certkit_ca::dates::rfc3339(crl.this_update),
                    crl.next_update
                        .map_or_else(|| "none".into(), certkit_ca::dates::rfc3339),
                    ca.cert.subject
                )));
            }
            if ca.crl.as_ref().is_none_or(|c| c.number < crl.number) {
                ca.crl = Some(crl);
            }
        }
        let settings = store.settings()?;
        Ok(CaMaterial {
            dir,
            issuers,
            above,
            clients: valid_clients(store, now)?,
            ocsp_url: settings.ocsp_url,
            crl_url: settings.crl_url,
        })
    }

    /// The CA's own certificate.
    pub fn ca(&self) -> &CertInfo {
        &self.issuers[0].cert
    }

    /// How many certificates a client's chain holds above the client: what nginx's `ssl_verify_depth` must
    /// allow.
    pub fn depth(&self) -> usize {
        1 + self.above.len()
    }

    /// The chain of one issuer of this CA up to the root: the issuer first, the root last.
    pub fn chain_of<'a>(&'a self, issuer: &'a TrustedCa) -> Vec<&'a TrustedCa> {
        std::iter::once(issuer).chain(self.above.iter()).collect()
    }

    /// Every CA a client chain can pass through: this CA's certificates, then the CAs above.
    pub fn all_cas(&self) -> impl Iterator<Item = &TrustedCa> {
        self.issuers.iter().chain(self.above.iter())
    }

    /// The CAs whose CRL is missing or not in force: a consumer that checks the CRL of every CA in the chain
    /// (nginx and HAProxy with a CRL file) refuses every client until each has one.
    pub fn missing_crls(&self) -> Vec<&TrustedCa> {
        self.all_cas().filter(|ca| ca.crl.is_none()).collect()
    }
}

/// The CRL signed by `ca` in force now among the CRLs in the CA folder (`ca.crl`, `ca-KEYID.crl`, ...).
fn crl_in_force(dir: &Path, ca: &CertInfo, now: OffsetDateTime) -> Result<Option<CrlFile>> {
    let (found, passed_over) = publish::read_folder(dir, ca)?;
    Ok(publish::offer(found, passed_over, now)
        .current
        .map(|f| f.crl))
}

/// The certificates of the CA's earlier keys that it still keeps (`ca.json`'s earlier keys, until
/// `retire-key`), from `history/`: self-issued under the CA's own name and signed by their own key, or by the
/// CA above, and still valid. Client certificates they signed may still be in use. One per key, the newest.
fn earlier_issuers(
    store: &CaStore,
    current: &CertInfo,
    now: OffsetDateTime,
) -> Result<Vec<CertInfo>> {
    let kept: Vec<String> = store
        .settings()?
        .earlier_keys
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    let mut earlier: Vec<CertInfo> = Vec::new();
    for cert in store.history()? {
        if cert.spki_der == current.spki_der
            || !kept.contains(&certkit_ca::keys::key_id(&cert.spki_der)?)
            || cert.subject != current.subject
            || cert.not_after <= now
            || !cert.is_ca
        {
            continue;
        }
        // A cross-certificate carries a key under another key's signature; the issuer's own certificate is
        // the one signed by itself (a root) or by the same CA as the current one (an issuing CA).
        let own = cert.is_signed_by(&cert)? || cert.issuer != cert.subject;
        if !own {
            continue;
        }
        match earlier.iter_mut().find(|e| e.spki_der == cert.spki_der) {
            Some(e) if e.not_after < cert.not_after => *e = cert,
            Some(_) => {}
            None => earlier.push(cert),
        }
    }
    earlier.sort_by_key(|c| std::cmp::Reverse(c.not_before));
    Ok(earlier)
}

/// The valid client certificates of the CA, oldest first.
fn valid_clients(store: &CaStore, now: OffsetDateTime) -> Result<Vec<ClientCert>> {
    let filter = ListFilter {
        profile: Some(Profile::Client),
        status: Some(Status::Valid),
        expiring_by: None,
        before_line: None,
        with_certificates: true,
    };
    let mut clients = Vec::new();
    let mut failed = None;
    store.list(&filter, now, &mut |entry: Entry| {
        match client_of(&entry) {
            Ok(client) => clients.push(client),
            Err(e) => {
                failed = Some(e);
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    clients.reverse();
    Ok(clients)
}

fn client_of(entry: &Entry) -> Result<ClientCert> {
    let issued = &entry.issued;
    let facts = match issued.cert_der() {
        Some(der) => Some(CertFacts::from_der(&der, Path::new("inventory"))?),
        None => None,
    };
    Ok(ClientCert {
        thumbprint: issued.thumbprint,
        subject: issued.subject.clone(),
        issuer: facts
            .as_ref()
            .map_or_else(String::new, |f| f.issuer.clone()),
        has_ocsp: facts.as_ref().is_some_and(|f| !f.ocsp_urls.is_empty()),
        has_crl: issued.crl_url.is_some(),
    })
}

/// The server certificate a kit carries, with its key.
pub struct ServerMaterial {
    /// The certificate.
    pub cert: CertInfo,
    /// Its private key.
    pub key: PKey<Private>,
    /// The file prefix it was read from (absolute).
    pub prefix: PathBuf,
    /// Its profile's name in the CA's record.
    pub subject: String,
}

impl std::fmt::Debug for ServerMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerMaterial")
            .field("subject", &self.cert.subject)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The certificate file of a prefix: `PREFIX.pem`, else `PREFIX.cer`.
pub fn cert_file(prefix: &Path) -> PathBuf {
    let pem = with_suffix(prefix, ".pem");
    if pem.exists() {
        pem
    } else {
        with_suffix(prefix, ".cer")
    }
}

/// `prefix` with `suffix` appended to its file name.
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl ServerMaterial {
    /// The server certificate of `PREFIX.pem` (or `.cer`) and its key `PREFIX.key`, checked to be a valid
    /// server certificate this CA issued and recorded.
    pub fn read(
        store: &CaStore,
        prefix: &Path,
        password: &Secret,
        now: OffsetDateTime,
    ) -> Result<ServerMaterial> {
        let prefix = certkit_ca::store::guard::resolve(prefix);
        let cert_path = cert_file(&prefix);
        let key_path = with_suffix(&prefix, ".key");
        for path in [&cert_path, &key_path] {
            if !path.exists() {
                return Err(Error::BadInput(format!(
                    "{} does not exist: --server names the prefix of a server certificate's files (PREFIX.pem or PREFIX.cer, and PREFIX.key), as certkit-issue server --out PREFIX wrote them",
                    path.display()
                )));
            }
        }
        let cert = certkit_ca::certinfo::read_cert(&cert_path)?;
        let entry = recorded_server(store, &cert, &cert_path, now)?;
        let key = sources::read_key(&key_path, password)?;
        sources::check_pair(&key, &cert, &key_path, &cert_path)?;
        Ok(ServerMaterial {
            subject: entry.issued.subject,
            cert,
            key,
            prefix,
        })
    }

    /// The newest valid server certificate of the CA with the subject of `current`, when it is not
    /// `current`: what a renewal put in its place, with the prefix its key was delivered at.
    pub fn newer(
        store: &CaStore,
        current: &Thumbprint,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(Entry, PathBuf)>> {
        let filter = ListFilter {
            profile: Some(Profile::Server),
            status: Some(Status::Valid),
            expiring_by: None,
            before_line: None,
            with_certificates: false,
        };
        let mut newest: Option<Entry> = None;
        store.list(&filter, now, &mut |entry: Entry| {
            if entry.issued.subject == subject {
                newest = Some(entry);
                return Ok(false);
            }
            Ok(true)
        })?;
        let Some(entry) = newest.filter(|e| e.issued.thumbprint != *current) else {
            return Ok(None);
        };
        let prefix = entry
            .issued
            .outputs
            .iter()
            .find_map(|o| o.path.strip_suffix(".key"))
            .map(PathBuf::from);
        match prefix {
            Some(prefix) => Ok(Some((entry, prefix))),
            None => Err(Error::Failed(format!(
                "the server certificate {} (serial {}) renews the kit's, but the CA recorded no key file for it; make the kit again with --server PREFIX",
                entry.issued.subject, entry.issued.serial
            ))),
        }
    }
}

/// The CA's record of the server certificate `cert`: refused when it is not this CA's, not a server
/// certificate, or not valid now.
fn recorded_server(
    store: &CaStore,
    cert: &CertInfo,
    path: &Path,
    now: OffsetDateTime,
) -> Result<Entry> {
    let Some(entry) = store.entry_by_thumbprint(&cert.thumbprint)? else {
        return Err(Error::BadInput(format!(
            "{} ({}) is not a certificate the CA in {} issued; give the prefix of one it issued (certkit-ca list --ca {} --profile server)",
            path.display(),
            cert.subject,
            store.dir().display(),
            store.dir().display()
        )));
    };
    if entry.issued.profile != Profile::Server {
        return Err(Error::BadInput(format!(
            "{} is a {} certificate; --server takes a server certificate (certkit-issue server)",
            path.display(),
            entry.issued.profile
        )));
    }
    match entry.status(now) {
        Status::Valid => Ok(entry),
        status => Err(Error::BadInput(format!(
            "{} is {status}; renew it (certkit-issue renew {} --ca {} --out PREFIX) and give the new prefix",
            path.display(),
            cert.thumbprint,
            store.dir().display()
        ))),
    }
}
