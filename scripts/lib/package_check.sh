#!/usr/bin/env bash
# Run by scripts/test.sh after the tests: builds the packages from the tested binaries (scripts/package.sh
# --debug), installs the Debian package with dpkg -i into this machine, and runs a short flow with the
# installed files only (/usr/bin, the man pages, the bash completion, the scripts under /usr/share/certkit);
# then unpacks the .tar.gz into a scratch prefix and runs its binaries and man pages from there.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "package_check: $*" >&2; exit 1; }

scripts/package.sh --debug
deb=$(ls target/package/certkit_*.deb)
tarball=$(ls target/package/certkit-*-linux.tar.gz)
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo dpkg -i "$deb" >/dev/null || { $sudo apt-get -f install -y -qq >/dev/null && $sudo dpkg -i "$deb" >/dev/null; } \
  || fail "dpkg -i $deb failed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Only what the package installed (and the system's own tools): nothing from target/ or the checkout.
export PATH=/usr/bin:/bin
version=$(certkit-ca --version)
[ "$(command -v certkit-ca)" = /usr/bin/certkit-ca ] || fail "certkit-ca is not the installed one"
dpkg -s certkit | grep -q "^Version: ${version#certkit-ca }-1$" || fail "the package's version is not $version"
for page in certkit-ca certkit-issue certkit-export certkit-ca-init certkit-export-kit; do
  man -w "$page" | grep -q "^/usr/share/man/man1/$page.1.gz$" || fail "man $page is not the installed page"
done
man certkit-issue 2>/dev/null | grep -q '^EXAMPLES' || fail "man certkit-issue has no EXAMPLES"
man certkit-ca-status 2>/dev/null | grep -q '^EXIT STATUS' || fail "man certkit-ca-status has no EXIT STATUS"
# bash completion from the installed file: the subcommands after `certkit-ca `, the flags after `status --exp`.
complete_words() {
  bash -c '. /usr/share/bash-completion/completions/certkit-ca
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    fn=$(complete -p certkit-ca | sed -E "s/.*-F ([^ ]+).*/\1/")
    "$fn" certkit-ca "${COMP_WORDS[$COMP_CWORD]}" "${COMP_WORDS[$COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' bash "$@"
}
complete_words certkit-ca "" | grep -qx init || fail "bash completion does not offer certkit-ca init"
complete_words certkit-ca status --exp | grep -qx -- --expiring-within \
  || fail "bash completion does not offer status --expiring-within"
for shell in zsh/vendor-completions/_certkit-export fish/vendor_completions.d/certkit-issue.fish; do
  [ -s "/usr/share/$shell" ] || fail "/usr/share/$shell is missing"
done

# The short flow: a CA, server, client and encryption certificates with PFX files, their thumbprints in a .cscfg.
printf 'ca-password-1\n' > ca.pass && printf 'key-password-1\n' > key.pass && printf 'pfx-password-1\n' > pfx.pass
certkit-ca init --ca pki --cn "Package Check CA" --key p256 --ca-pass file:ca.pass --json > init.json
certkit-issue server --ca pki --cn svc.example.com --out ssl --pfx --key rsa2048 \
  --ca-pass file:ca.pass --key-pass file:key.pass --pfx-pass file:pfx.pass > /dev/null
certkit-issue client --ca pki --cn "Alice Smith" --out alice --pfx --key p256 \
  --ca-pass file:ca.pass --key-pass file:key.pass --pfx-pass file:pfx.pass > /dev/null
certkit-issue encryption --self-signed --cn "Package Check encryption" --out enc --pfx \
  --key-pass file:key.pass --pfx-pass file:pfx.pass > /dev/null
openssl verify -CAfile pki/ca.pem ssl.pem alice.pem > /dev/null || fail "openssl does not verify the certificates"
cp /usr/share/certkit/examples/ServiceConfiguration.cscfg svc.cscfg
certkit-export cscfg --file svc.cscfg --ssl ssl.cer --ca-cert pki/ca.pem --encryption enc.cer --allow alice.cer > /dev/null
thumb=$(openssl x509 -in alice.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
grep -q "$thumb" svc.cscfg || fail "alice's thumbprint is not in the .cscfg"
certkit-export cscfg --file svc.cscfg --check --certs ssl.cer enc.cer alice.cer pki/ca.pem --ca pki > /dev/null \
  || fail "cscfg --check fails on what the installed binaries made"
certkit-ca status --ca pki > /dev/null || fail "status is not OK on a new CA"
/usr/share/certkit/scripts/rotate-client-certs.sh --help | grep -q expiring-within \
  || fail "the installed rotation script does not run"

# The .tar.gz: the same binaries and pages under any prefix.
mkdir prefix
tar -xzf "$OLDPWD/$tarball" -C prefix --strip-components=1
[ "$(prefix/bin/certkit-export --version)" = "certkit-export ${version#certkit-ca }" ] \
  || fail "the tarball's certkit-export is not version ${version#certkit-ca }"
MANPATH="$PWD/prefix/share/man" man -w certkit-export-pfx | grep -q "^$PWD/prefix/share/man/man1/" \
  || fail "the tarball's man pages are not found under its prefix"
echo "package_check: $deb installed; $version from /usr/bin made a CA, certificates and a .cscfg; man, completion and the tarball work"
