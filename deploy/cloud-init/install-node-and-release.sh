set -eu
# The head of the app and lb roles' runcmd script (deploy/cloud-init/app.yaml, lb.yaml), put in
# place of their INSTALL_NODE_AND_RELEASE placeholder by src/fleet/user-data.ts: strict mode,
# the failure trap, Node.js and the release. It leaves the installed version in $v.
release_url={{RELEASE_URL}}
release_sha256={{RELEASE_SHA256}}
node_url={{NODE_URL}}
node_sha256={{NODE_SHA256}}
step=start
trap 'rc=$?; [ "$rc" -eq 0 ] || echo "atelier: FAILED (exit $rc) while $step; the steps after it did not run" >&2' EXIT

# Node.js 20 is not in Debian 12: the official tarball, checked before it is unpacked.
# --no-same-owner: the archive's owner ids mean nothing here, root owns /usr/local.
step='installing Node.js'
tmp=$(mktemp -d)
curl -fsSL --proto '=https' --proto-redir '=https' --retry 5 -o "$tmp/node.tar.xz" "$node_url"
echo "$node_sha256  $tmp/node.tar.xz" | sha256sum -c --strict -
tar -C /usr/local --strip-components=1 --no-same-owner -xJf "$tmp/node.tar.xz"
rm -rf "$tmp"
echo "atelier: node $(/usr/local/bin/node --version) in /usr/local/bin"

# The installer prints the version last. Captured, not piped: dash has no pipefail, and a
# pipe into tail would hide the installer's failure.
step='installing the release'
out=$(/usr/local/sbin/atelier-install-release "$release_url" "$release_sha256")
v=$(printf '%s\n' "$out" | tail -n 1)
case $v in '' | .* | *[!A-Za-z0-9._+-]*) echo "atelier: the installer printed no version" >&2; exit 1 ;; esac
