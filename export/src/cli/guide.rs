//! What `certkit-export --help` teaches beyond the flags (tests/tests/help.rs parses every example).

use certkit_ca::term::help::Guide;

/// certkit-export's guide.
pub const GUIDE: Guide = Guide {
    program: "certkit-export",
    groups: &[
        ("Files", &["pfx", "cer", "thumbprint"]),
        ("Services", &["cscfg", "kit", "tls12"]),
        ("Checks", &["inspect"]),
        ("Maintenance", &["completions"]),
    ],
    examples: &[
        (
            "pfx",
            &[
                "certkit-export pfx --cert alice.cer --key-file alice.key --chain pki/ca.cer --out alice.pfx",
                "certkit-export pfx --from modern.pfx --out azure.pfx --pfx-profile compat",
            ],
        ),
        (
            "cer",
            &[
                "certkit-export cer --in alice.pfx --out alice.cer",
                "certkit-export cer --in alice.pfx --issuer --out ca.cer",
            ],
        ),
        (
            "thumbprint",
            &[
                "certkit-export thumbprint ssl.cer --as ssl",
                "certkit-export thumbprint alice.cer bob.cer --as allowed-clients",
                "certkit-export thumbprint team/*.cer --json",
            ],
        ),
        (
            "cscfg",
            &[
                "certkit-export cscfg --file ServiceConfiguration.cscfg --ssl ssl.cer --ca-cert pki/ca.cer --allow alice.cer bob.cer",
                "certkit-export cscfg --file ServiceConfiguration.cscfg --allow-subnet 100.100.0.0/16 --dry-run",
                "certkit-export cscfg --file ServiceConfiguration.cscfg --check --certs ssl.cer alice.cer --ca pki",
            ],
        ),
        (
            "inspect",
            &[
                "certkit-export inspect existing.pfx --role ssl --from-pass env:PFX_PW",
                "certkit-export inspect --target appgw chain.cer",
                "certkit-export inspect peer.cer --chain pki/ca.cer",
            ],
        ),
        (
            "tls12",
            &[
                "certkit-export tls12 --out tls12.reg",
                "certkit-export tls12 --roots /etc/ssl/certs",
            ],
        ),
        (
            "kit",
            &[
                "certkit-export kit --target nginx --ca pki --out-dir kit --server www",
                "certkit-export kit --target appgw --ca pki --out-dir appgw-kit",
                "certkit-export kit --refresh kit",
            ],
        ),
        (
            "completions",
            &[
                "certkit-export completions bash",
                "certkit-export completions zsh",
            ],
        ),
    ],
    first: "certkit-export thumbprint ssl.cer --as ssl     (certificates first: certkit-issue)",
};
