#!/usr/bin/env bash
# Builds certkit's packages for a machine with no Rust and no network (the offline CA machine): a Debian
# package (cargo-deb) and a .tar.gz of the same files for other Linux systems, both in target/package/.
#
#   /usr/bin/certkit-ca, certkit-issue, certkit-export
#   /usr/share/man/man1/certkit-*.1.gz                       every command's man page (man/)
#   /usr/share/bash-completion/completions/certkit-*         bash, zsh and fish completions
#   /usr/share/zsh/vendor-completions/_certkit-*
#   /usr/share/fish/vendor_completions.d/certkit-*.fish
#   /usr/share/certkit/scripts/                              splitmerge-setup.sh, rotate-client-certs.sh
#   /usr/share/certkit/examples/ServiceConfiguration.cscfg
#   /usr/share/doc/certkit/                                  README.md, CHANGELOG.md, docs/
#
# usage: scripts/package.sh [--debug]
#   --debug   package the binaries of the last debug build (target/debug) instead of building release ones:
#             what CI does to test the package's installation without a second, optimised build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh

profile=release
case "${1:-}" in
  --debug) profile=debug ;;
  "") ;;
  *) echo "usage: scripts/package.sh [--debug]" >&2; exit 2 ;;
esac

deps_build
cargo deb --version >/dev/null 2>&1 || {
  echo "package.sh: installing cargo-deb" >&2
  cargo install --quiet --locked cargo-deb || deps_fail "cargo-deb is required: cargo install cargo-deb"
}

if [ "$profile" = release ]; then
  cargo build --locked --release -p certkit-ca -p certkit-issue -p certkit-export --bins
fi
bins=(certkit-ca certkit-issue certkit-export)
for bin in "${bins[@]}"; do
  [ -x "target/$profile/$bin" ] || deps_fail "target/$profile/$bin is missing; build it first (cargo build)"
done
version=$("target/$profile/certkit-ca" --version | awk '{print $2}')
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)

# Every file of the package, laid out as installed, in one staging tree; both packages are made from it.
# A fresh target/package: only this version's packages are in it afterwards.
rm -rf target/package
stage=target/package/stage
mkdir -p "$stage/bin" "$stage/man/man1" "$stage/completions/bash" "$stage/completions/zsh" \
  "$stage/completions/fish" "$stage/scripts" "$stage/examples" "$stage/doc/docs"
for bin in "${bins[@]}"; do
  install -m 0755 "target/$profile/$bin" "$stage/bin/$bin"
  [ "$profile" = debug ] || strip "$stage/bin/$bin"
  "$stage/bin/$bin" completions bash > "$stage/completions/bash/$bin"
  "$stage/bin/$bin" completions zsh > "$stage/completions/zsh/_$bin"
  "$stage/bin/$bin" completions fish > "$stage/completions/fish/$bin.fish"
done
for page in man/*.1; do
  gzip -9n < "$page" > "$stage/man/man1/${page##*/}.gz"
done
install -m 0755 scripts/splitmerge-setup.sh scripts/rotate-client-certs.sh "$stage/scripts/"
install -m 0644 examples/ServiceConfiguration.cscfg "$stage/examples/"
install -m 0644 README.md CHANGELOG.md "$stage/doc/"
install -m 0644 docs/*.md docs/*.png "$stage/doc/docs/"

# The Debian package: cargo-deb with the assets of ca/Cargo.toml's [package.metadata.deb], from the stage.
mkdir -p target/package
deb="target/package/certkit_${version}-1_${arch}.deb"
cargo deb --no-build --no-strip --quiet -p certkit-ca --deb-version "${version}-1" --output "$deb"

# The same files for any Linux: bin/ and share/ under certkit-VERSION/, to unpack into /usr/local or /opt.
tree="target/package/certkit-$version"
rm -rf "$tree"
mkdir -p "$tree/bin" "$tree/share/man" "$tree/share/bash-completion" "$tree/share/zsh" "$tree/share/fish" \
  "$tree/share/certkit" "$tree/share/doc"
cp -a "$stage/bin/." "$tree/bin/"
cp -a "$stage/man/." "$tree/share/man/"
cp -a "$stage/completions/bash" "$tree/share/bash-completion/completions"
cp -a "$stage/completions/zsh" "$tree/share/zsh/vendor-completions"
cp -a "$stage/completions/fish" "$tree/share/fish/vendor_completions.d"
cp -a "$stage/scripts" "$stage/examples" "$tree/share/certkit/"
cp -a "$stage/doc" "$tree/share/doc/certkit"
tarball="target/package/certkit-${version}-$(uname -m)-linux.tar.gz"
tar -C target/package --owner=0 --group=0 --numeric-owner -czf "$tarball" "certkit-$version"
rm -rf "$tree"

echo "package.sh: $deb"
echo "package.sh: $tarball"
echo "package.sh: install with: dpkg -i $deb (then apt-get -f install for libssl3 if it is missing),"
echo "            or: tar -xzf $tarball -C /usr/local --strip-components=1"
