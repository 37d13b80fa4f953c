//! Integration tests live in `tests/`; `src/bin/certkit-bench-bound.rs` is the benchmark helper behind
//! scripts/bench.sh.
