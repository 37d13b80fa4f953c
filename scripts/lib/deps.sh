# Sourced by scripts/test.sh and scripts/quickstart.sh: installs what this machine lacks to build and test
# certkit (Debian/Ubuntu packages with apt-get, Python packages with pip, Rust components with rustup).
# As root it installs; otherwise it uses sudo when that works without a password, and else says exactly
# what to install.

deps_fail() { echo "${0##*/}: $*" >&2; exit 1; }

# deps_apt PACKAGE...: installs the Debian packages given (the caller has checked they are missing).
deps_apt() {
  [ $# -gt 0 ] || return 0
  local sudo=
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=sudo
    else
      deps_fail "missing packages: $*; install them (sudo apt-get install $*) and run again"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || deps_fail "missing packages: $*; install them with your package manager"
  echo "${0##*/}: installing $*" >&2
  $sudo apt-get update -qq >/dev/null || deps_fail "apt-get update failed; install $* by hand"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null \
    || deps_fail "apt-get install $* failed; install them by hand"
}

# What `cargo build` needs: Rust, a C compiler (aws-lc), OpenSSL 3 headers and pkg-config.
deps_build() {
  command -v cargo >/dev/null 2>&1 \
    || deps_fail "Rust is required: install it with rustup (https://rustup.rs), then run again"
  local missing=()
  command -v cc >/dev/null 2>&1 || missing+=(gcc)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  [ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  deps_apt "${missing[@]}"
}

# What the tests need besides the build: the peers that check certkit's output and the lint tools.
deps_test() {
  deps_build
  local missing=()
  command -v keytool >/dev/null 2>&1 || missing+=(default-jre-headless)
  command -v script >/dev/null 2>&1 || missing+=(bsdutils)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  command -v strace >/dev/null 2>&1 || missing+=(strace)
  command -v man >/dev/null 2>&1 || missing+=(man-db)
  command -v groff >/dev/null 2>&1 || missing+=(groff-base)
  command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
  command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
  command -v mcs >/dev/null 2>&1 || missing+=(mono-mcs mono-runtime)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v vfychain >/dev/null 2>&1 || missing+=(libnss3-tools)
  command -v faketime >/dev/null 2>&1 || missing+=(faketime)
  # nginx: a real OCSP consumer (ssl_ocsp on) for the responder's tests; curl for GET requests.
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # HAProxy: a real client-certificate consumer for the kits' tests (crt, ca-file, crl-file, verify required).
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  # easy-rsa: the CA a security officer brings in (certkit-ca import --from-easyrsa), made for real by the tests.
  [ -x /usr/share/easy-rsa/easyrsa ] || missing+=(easy-rsa)
  # XCA: its command line writes the OpenSSL index certkit-ca import --from-index reads (xca --no-gui).
  command -v xca >/dev/null 2>&1 || missing+=(xca)
  [ -e /etc/ssl/certs/DigiCert_Global_Root_G2.pem ] || missing+=(ca-certificates)
  command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
  deps_apt "${missing[@]}"
  # Python peers: cryptography (X.509, PKCS#12, and its strict RFC 5280 path builder, 42 and later),
  # shamir-mnemonic (Trezor's SLIP-39 reference), pkilint (DigiCert's RFC 5280 linters).
  local module package
  for module in cryptography.x509.verification:cryptography shamir_mnemonic:shamir-mnemonic \
      pkilint.bin.lint_crl:pkilint; do
    package=${module#*:} module=${module%%:*}
    python3 -c "import $module" 2>/dev/null && continue
    echo "${0##*/}: installing Python $package" >&2
    python3 -m pip install --quiet --upgrade "$package" 2>/dev/null \
      || python3 -m pip install --quiet --user --upgrade "$package" \
      || deps_fail "Python $package is required: pip install $package"
  done
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy >/dev/null
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt >/dev/null
  fi
  cargo clippy --version >/dev/null 2>&1 || deps_fail "clippy is required: rustup component add clippy"
  cargo fmt --version >/dev/null 2>&1 || deps_fail "rustfmt is required: rustup component add rustfmt"
  clippy-driver --version >/dev/null 2>&1 || deps_fail "clippy-driver is required: rustup component add clippy"
  # cargo-nextest runs every test binary at once (.config/nextest.toml).
  cargo nextest --version >/dev/null 2>&1 || {
    echo "${0##*/}: installing cargo-nextest" >&2
    cargo install --quiet --locked cargo-nextest || deps_fail "cargo-nextest is required: cargo install cargo-nextest"
  }
}

# What the fuzz step needs: a C++ compiler for libFuzzer and cargo-fuzz (stable toolchain, no sanitizer).
deps_fuzz() {
  deps_build
  local missing=()
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  deps_apt "${missing[@]}"
  cargo fuzz --version >/dev/null 2>&1 || {
    echo "${0##*/}: installing cargo-fuzz" >&2
    cargo install --quiet --locked cargo-fuzz || deps_fail "cargo-fuzz is required: cargo install cargo-fuzz"
  }
}
