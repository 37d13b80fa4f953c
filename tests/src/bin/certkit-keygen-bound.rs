//! Benchmark helper for scripts/bench.sh: generates N keys with certkit's backend (rcgen on aws-lc) on J
//! threads and nothing else, giving the lower bound for batch issuance.
//!
//! usage: certkit-keygen-bound N [rsa2048|p256] [JOBS]

use std::sync::atomic::{AtomicUsize, Ordering};

use certkit_ca::KeyType;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let key = match args.get(2).map(String::as_str) {
        Some("p256") => KeyType::P256,
        _ => KeyType::Rsa2048,
    };
    let jobs: usize = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    if key.generate().is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    if failed.load(Ordering::Relaxed) > 0 {
        eprintln!("certkit-keygen-bound: key generation failed");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
