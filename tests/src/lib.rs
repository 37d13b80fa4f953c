//! Integration tests live in `tests/`; `src/bin/certkit-keygen-bound.rs` is the benchmark helper behind
//! scripts/bench.sh.
