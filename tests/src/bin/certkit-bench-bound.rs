//! Benchmark helper for scripts/bench.sh: the lower bounds a batch is measured against, computed with certkit's
//! own code on J threads and nothing written.
//!
//! usage: certkit-bench-bound N rsa2048|p256 keygen|sign|compute [JOBS]
//! Prints the seconds the N items took (the CA it sets up first is not counted).
//!   keygen   N keys (rcgen on aws-lc), nothing else: the bound of an RSA batch, where key generation dominates
//!   sign     N keys, each signed by a CA
//!   compute  N keys, signed, each in a compat PFX: the issuance engine's `prepare`, exactly what a batch's
//!            workers do, without the writes (the bound of a P-256 batch, where the PFX dominates)

use std::sync::atomic::{AtomicUsize, Ordering};

use certkit_ca::dates::{Lifetime, Validity};
use certkit_ca::pfx::PfxProfile;
use certkit_ca::store::{self, CaSpec, CaStore};
use certkit_ca::{KeyType, Profile, Secret};
use certkit_issue::engine::{Engine, Order, PfxOutput, Signer, SubjectKey};
use certkit_issue::leaf::LeafSpec;
use certkit_issue::outputs::OutputPlan;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let key = match args.get(2).map(String::as_str) {
        Some("p256") => KeyType::P256,
        _ => KeyType::Rsa2048,
    };
    let mode = args.get(3).map(String::as_str).unwrap_or("keygen");
    let jobs: usize = args
        .get(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    match run(n, key, mode, jobs) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("certkit-bench-bound: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(n: usize, key: KeyType, mode: &str, jobs: usize) -> certkit_ca::Result<()> {
    let dir = tempfile::tempdir()
        .map_err(|e| certkit_ca::Error::io("create", std::path::Path::new("/tmp"), e))?;
    let password = Secret::new(zeroize::Zeroizing::new("bench ca password".into()));
    let spec = CaSpec {
        dir: dir.path().join("ca"),
        cn: "Bound CA".into(),
        lifetime: Lifetime::Days(3650),
        key: KeyType::P256,
        pathlen: 0,
        crl_url: None,
        aia_url: None,
        ocsp_url: None,
        constraints: Default::default(),
        policies: Vec::new(),
    };
    store::init(&spec, &store::NewCaKey::File(&password), &mut |_| {})?;
    let store = CaStore::open(&spec.dir)?;
    let ca = store.unlock(&password)?;
    let (lock, _) = store.lock(&mut |_| {})?;
    let engine = Engine::new(Signer::Ca {
        store: &store,
        ca: &ca,
        lock: &lock,
    })?;
    let validity = Validity::starting_now(Lifetime::Days(365))?;
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let done = match mode {
                        "keygen" => key.generate().map(drop),
                        _ => {
                            let spec = LeafSpec {
                                profile: Profile::Client,
                                cn: "Bound".into(),
                                dns: vec![],
                                ips: vec![],
                                email: None,
                                identity: Default::default(),
                                extra_ekus: vec![],
                                key_type: key,
                                validity,
                                crl_url: None,
                                subject: Vec::new(),
                                profile_file: None,
                            };
                            let compute = mode == "compute";
                            engine
                                .prepare(Order {
                                    spec,
                                    key: SubjectKey::Generate(key),
                                    plan: OutputPlan {
                                        prefix: "bound".into(),
                                        with_key: false,
                                        with_pfx: compute,
                                    },
                                    key_password: None,
                                    pfx: compute.then_some(PfxOutput {
                                        profile: PfxProfile::Compat,
                                        password: &password,
                                    }),
                                    renewal_of: None,
                                })
                                .map(drop)
                        }
                    };
                    if done.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    if failed.load(Ordering::Relaxed) > 0 {
        return Err(certkit_ca::Error::Bug("a bound run failed"));
    }
    println!("{seconds:.3}");
    Ok(())
}
