//! What `certkit-ca --help` teaches beyond the flags: the commands grouped by task, and examples for each
//! (tests/tests/help.rs parses every example, so none can drift from the flags).

use crate::term::help::Guide;

/// certkit-ca's guide.
pub const GUIDE: Guide = Guide {
    program: "certkit-ca",
    groups: &[
        (
            "Set up",
            &["init", "install", "sign-ca", "settings", "profile"],
        ),
        ("Daily", &["list", "show", "revoke", "crl"]),
        ("Monitor", &["status", "audit", "report", "ocsp"]),
        ("Lifecycle", &["renew", "rekey", "retire-key"]),
        ("Custody", &["backup", "restore", "move-key"]),
        ("Move in and out", &["import", "export-index"]),
        ("Maintenance", &["reindex", "completions"]),
    ],
    examples: &[
        (
            "init",
            &[
                "certkit-ca init --ca pki --cn 'Contoso CA'",
                "certkit-ca init --ca pki --cn 'Contoso CA' --key p256 --crl-url http://pki.example.com/ca.crl",
                "certkit-ca init --ca issuing --cn 'Contoso Issuing CA' --parent root",
            ],
        ),
        (
            "show",
            &[
                "certkit-ca show --ca pki",
                "certkit-ca show --ca pki --json",
            ],
        ),
        (
            "status",
            &[
                "certkit-ca status --ca pki",
                "certkit-ca status --ca pki --expiring-within 45 --crl /srv/www/ca.crl",
                "certkit-ca status --ca pki --at 2027-03-01 --json",
            ],
        ),
        (
            "list",
            &[
                "certkit-ca list --ca pki",
                "certkit-ca list --ca pki --profile client --expiring-within 30",
                "certkit-ca list --ca pki --csv",
            ],
        ),
        (
            "install",
            &[
                "certkit-ca install --ca issuing --cert issuing-ca.cer --chain root.cer",
                "certkit-ca install --ca issuing --cert renewed.cer",
            ],
        ),
        (
            "renew",
            &[
                "certkit-ca renew --ca pki --plan",
                "certkit-ca renew --ca pki --days 3650",
                "certkit-ca renew --ca issuing --parent root",
            ],
        ),
        (
            "rekey",
            &[
                "certkit-ca rekey --ca pki --plan",
                "certkit-ca rekey --ca pki --key p384",
            ],
        ),
        (
            "retire-key",
            &[
                "certkit-ca retire-key --ca pki --key-id 3F2A9C0B1D4E5F60718293A4B5C6D7E8F9001122",
                "certkit-ca retire-key --ca pki --key-id 3F2A9C0B1D4E5F60718293A4B5C6D7E8F9001122 --ca-pass file:/secure/ca.pass",
            ],
        ),
        (
            "sign-ca",
            &[
                "certkit-ca sign-ca --ca root --csr issuing.csr --out issuing-ca",
                "certkit-ca sign-ca --ca root --csr issuing.csr --out issuing-ca --pathlen 0 --permit-dns example.com",
                "certkit-ca sign-ca --ca root --renew issuing/ca.cer --out renewed",
            ],
        ),
        (
            "revoke",
            &[
                "certkit-ca revoke --ca pki alice.cer --reason keyCompromise",
                "certkit-ca revoke --ca pki 1A2B3C4D --cscfg ServiceConfiguration.cscfg",
            ],
        ),
        (
            "crl",
            &[
                "certkit-ca crl --ca pki",
                "certkit-ca crl --ca pki --out /srv/www/ca.crl --days 30",
                "certkit-ca crl --ca pki --series 6 --every 30 --out-dir crls",
            ],
        ),
        (
            "crl publish",
            &[
                "certkit-ca crl publish --from crls --out /srv/www/ca.crl --ca-cert /etc/certkit/ca.cer",
                "certkit-ca crl publish --from crls --out /srv/www/ca.crl --ca-thumbprint 8F3C0A6B1E2D4F5A6B7C8D9E0F1A2B3C4D5E6F70",
            ],
        ),
        (
            "profile",
            &[
                "certkit-ca profile show client",
                "certkit-ca profile add --ca pki --from staff.toml",
                "certkit-ca profile list --ca pki",
            ],
        ),
        (
            "profile add",
            &[
                "certkit-ca profile add --ca pki --from staff.toml",
                "certkit-ca profile add --ca pki --from /etc/certkit/contractors.toml",
            ],
        ),
        (
            "profile list",
            &[
                "certkit-ca profile list --ca pki",
                "certkit-ca profile list --ca pki --json",
            ],
        ),
        (
            "profile show",
            &[
                "certkit-ca profile show client",
                "certkit-ca profile show staff --ca pki",
            ],
        ),
        (
            "settings",
            &[
                "certkit-ca settings --ca pki",
                "certkit-ca settings --ca pki --ocsp-url http://ocsp.example.com/",
            ],
        ),
        (
            "ocsp",
            &[
                "certkit-ca ocsp --ca pki --out-dir ocsp",
                "certkit-ca ocsp --ca pki --out-dir ocsp --series 5 --every 7 --overlap 1",
            ],
        ),
        (
            "ocsp serve",
            &[
                "certkit-ca ocsp serve --from ocsp --listen 127.0.0.1:8080 --ca-cert /etc/certkit/ca.cer",
                "certkit-ca ocsp serve --from ocsp --listen 0.0.0.0:80 --ca-thumbprint 8F3C0A6B1E2D4F5A6B7C8D9E0F1A2B3C4D5E6F70",
            ],
        ),
        (
            "audit",
            &[
                "certkit-ca audit --ca pki",
                "certkit-ca audit --ca pki --crl /srv/www/ca.crl --expect-head ceremony.log",
            ],
        ),
        (
            "move-key",
            &[
                "certkit-ca move-key --ca pki --pkcs11 'pkcs11:token=certkit;object=Contoso%20CA'",
                "certkit-ca move-key --ca pki --pkcs11 'pkcs11:token=certkit;object=Contoso%20CA' --backup-shares 5 --threshold 3",
            ],
        ),
        (
            "report",
            &[
                "certkit-ca report --ca pki --out report.html",
                "certkit-ca report --ca pki --out report.html --json",
            ],
        ),
        (
            "reindex",
            &[
                "certkit-ca reindex --ca pki",
                "certkit-ca reindex --ca pki --json",
            ],
        ),
        (
            "backup",
            &[
                "certkit-ca backup --ca pki --shares 5 --threshold 3",
                "certkit-ca backup --ca pki --shares 5 --threshold 3 --share-dir shares --out pki-backup.key",
            ],
        ),
        (
            "restore",
            &[
                "certkit-ca restore --backup pki-backup.key --ca restored",
                "certkit-ca restore --backup pki-backup.key --check --ca pki",
            ],
        ),
        (
            "import",
            &[
                "certkit-ca import --from-easyrsa /etc/openvpn/easy-rsa/pki --ca pki",
                "certkit-ca import --from-openssl-ca /srv/ca --config /srv/ca/openssl.cnf --dry-run",
                "certkit-ca import --from-index xca-index.txt --certs xca-certs --ca-cert ca.pem --ca-key ca.key --ca pki",
            ],
        ),
        (
            "export-index",
            &[
                "certkit-ca export-index --ca pki --out pki-openssl",
                "certkit-ca export-index --ca pki --out pki-openssl --json",
            ],
        ),
        (
            "completions",
            &[
                "certkit-ca completions bash > /etc/bash_completion.d/certkit-ca",
                "certkit-ca completions zsh",
            ],
        ),
    ],
    first: "certkit-ca init --ca pki --cn 'Contoso CA'     (then: certkit-issue server --ca pki ...)",
};
