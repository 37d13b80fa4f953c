//! What `certkit-issue --help` teaches beyond the flags (tests/tests/help.rs parses every example).

use certkit_ca::term::help::Guide;

/// certkit-issue's guide.
pub const GUIDE: Guide = Guide {
    program: "certkit-issue",
    groups: &[
        ("Issue", &["server", "client", "encryption", "sign"]),
        ("Lifecycle", &["renew"]),
        ("Maintenance", &["completions"]),
    ],
    examples: &[
        (
            "server",
            &[
                "certkit-issue server --ca pki --cn myservice.cloudapp.net --out ssl --pfx",
                "certkit-issue server --ca pki --cn www.example.com --dns example.com --ip 10.0.0.4 --out www",
                "certkit-issue server --self-signed --cn myservice.cloudapp.net --out ssl --pfx",
            ],
        ),
        (
            "client",
            &[
                "certkit-issue client --ca pki --cn 'Alice Smith' --email alice@example.com --out alice --pfx",
                "certkit-issue client --ca pki --cn alice --upn alice@contoso.com --sid S-1-5-21-1004336348-1177238915-682003330-1105 --sid-extension --smartcard-logon --out alice --pfx",
                "certkit-issue client --ca pki --batch people.csv --out-dir team --pfx --pfx-pass-dir passwords",
            ],
        ),
        (
            "encryption",
            &[
                "certkit-issue encryption --ca pki --cn 'Split-Merge data encryption' --out enc --pfx",
                "certkit-issue encryption --self-signed --cn 'Split-Merge data encryption' --out enc --pfx",
            ],
        ),
        (
            "sign",
            &[
                "certkit-issue sign --ca pki --csr bob.csr --profile client --out bob",
                "certkit-issue sign --ca pki --csr web.csr --profile server --out web --days 397",
            ],
        ),
        (
            "renew",
            &[
                "certkit-issue renew --ca pki alice.cer --out alice-2027 --pfx",
                "certkit-issue renew --ca pki --expiring-within 30 --profile client --out-dir renewed --pfx",
                "certkit-issue renew --ca pki 6A18ED4BFC200CF00B274D5760430078 --out alice-2027 --pfx-profile modern --pfx",
            ],
        ),
        (
            "completions",
            &[
                "certkit-issue completions bash",
                "certkit-issue completions fish",
            ],
        ),
    ],
    first: "certkit-issue server --ca pki --cn myservice.cloudapp.net --out ssl --pfx     (the CA first: certkit-ca init)",
};
