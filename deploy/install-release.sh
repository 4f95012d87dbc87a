#!/usr/bin/env bash
# install-release.sh SOURCE SHA256: installs one release tarball (`npm run package`) into
# $ATELIER_ROOT/<version> (default /opt/atelier) without activating it, and prints the version
# as its last line. SOURCE is an https:// URL or a local file; SHA256 its digest (the .sha256
# file beside the tarball). Idempotent: an installed version is left as it is. Run as root on
# a host (cloud-init's user-data does); activate with deploy/activate.sh VERSION.
set -euo pipefail

die() { echo "install-release: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: install-release.sh SOURCE(https URL or file) SHA256"
source=$1
sha256=$2
root=${ATELIER_ROOT:-/opt/atelier}
[[ $sha256 =~ ^[0-9a-f]{64}$ ]] || die "SHA256 must be 64 lower-case hex digits (got \"$sha256\")"

work=$(mktemp -d "${TMPDIR:-/tmp}/atelier-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball="$work/release.tar.gz"
case "$source" in
  https://*) curl -fsSL --proto '=https' --tlsv1.2 --retry 3 -o "$tarball" "$source" || die "could not download $source" ;;
  *://*) die "only https:// URLs or local files are accepted (got $source)" ;;
  *) [ -f "$source" ] || die "no such file: $source"; cp "$source" "$tarball" ;;
esac
echo "$sha256  $tarball" | sha256sum -c --quiet - >/dev/null 2>&1 || die "sha256 of $source is not $sha256"

# One top-level folder named after the version, and nothing that could land outside it.
listing=$(tar -tzf "$tarball") || die "$source is not a gzip tar archive"
# (Here-strings, not pipes into grep -q: under pipefail a closed pipe would read as "no match".)
first=${listing%%$'\n'*}
version=${first%%/*}
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] || die "unexpected top-level entry \"$first\""
outside=$(grep -v -e "^$version/" -e "^$version\$" <<<"$listing" || true)
[ -z "$outside" ] || die "entries outside $version/: ${outside%%$'\n'*}"
dotdot=$(grep -e '/\.\./' -e '/\.\.$' <<<"$listing" || true)
[ -z "$dotdot" ] || die "entries with .. in their path: ${dotdot%%$'\n'*}"

mkdir -p "$root"
target="$root/$version"
if [ -e "$target" ]; then
  [ "$(cat "$target/VERSION" 2>/dev/null)" = "$version" ] || die "$target exists but is not release $version; move it away"
  echo "install-release: $version already installed in $target" >&2
else
  # Unpacked beside its final place, then renamed: a half-written release is never seen.
  partial=$(mktemp -d "$root/.partial.XXXXXX")
  tar -xzf "$tarball" -C "$partial" --no-same-owner
  [ "$(cat "$partial/$version/VERSION")" = "$version" ] || { rm -rf "$partial"; die "VERSION inside the tarball does not say $version"; }
  mv -T "$partial/$version" "$target"
  rmdir "$partial"
  echo "install-release: installed $version in $target" >&2
fi
# The unprivileged user the unit runs as (no-op when it exists).
if [ "$(id -u)" -eq 0 ]; then systemd-sysusers "$target/deploy/sysusers.d/atelier.conf"; fi
echo "$version"
