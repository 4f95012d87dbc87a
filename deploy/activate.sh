#!/usr/bin/env bash
# activate.sh VERSION [--started-only]: on an app host, as root, makes an installed release the
# running one: installs its units, stops the service (it drains: in-flight requests finish),
# points $ATELIER_ROOT/current at the release, starts it and waits until /readyz answers 200
# naming VERSION. --started-only waits for /healthz instead (the process serves VERSION): for a
# first boot against a database with no catalog loaded yet, where /readyz stays 503.
# A rollback is the same command with the previous version; deploy/rollout.sh runs it on one
# host at a time.
set -euo pipefail

die() { echo "activate: $*" >&2; exit 1; }
[ $# -eq 1 ] || { [ $# -eq 2 ] && [ "$2" = --started-only ]; } || die "usage: activate.sh VERSION [--started-only]"
version=$1
probe=readyz
[ $# -eq 1 ] || probe=healthz
root=${ATELIER_ROOT:-/opt/atelier}
env_file=/etc/atelier/atelier.env
timeout=${ATELIER_READY_TIMEOUT:-60}
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] || die "not a version: \"$version\""
[ "$(cat "$root/$version/VERSION" 2>/dev/null)" = "$version" ] || die "$version is not installed in $root (deploy/install-release.sh)"
[ -f "$env_file" ] || die "$env_file is missing (see $root/$version/deploy/atelier.env.example)"

install -m 0644 "$root/$version/deploy/systemd/atelier-products.service" /etc/systemd/system/atelier-products.service
# Installed on every host, enabled by the operator on one (README, Deploying to EC2).
install -m 0644 "$root/$version/deploy/systemd/atelier-change-feed.service" /etc/systemd/system/atelier-change-feed.service
systemctl daemon-reload
systemctl stop atelier-products.service
# Atomic switch: a new link renamed over the old one.
ln -sfn "$version" "$root/.current.new"
mv -T "$root/.current.new" "$root/current"
systemctl enable --now atelier-products.service
# Where the feed runs, it moves to the new release too (a set in progress rolls back and stays queued).
systemctl try-restart atelier-change-feed.service

port=$(sed -n 's/^PORT=\(.*\)$/\1/p' "$env_file" | tail -n1 | tr -d '"')
port=${port:-3000}
deadline=$((SECONDS + timeout))
until [[ "$(curl -fsS --max-time 2 "http://127.0.0.1:$port/$probe" 2>/dev/null || true)" == *"\"version\":\"$version\""* ]]; do
  [ $SECONDS -lt $deadline ] || die "$version not answering /$probe on port $port after ${timeout}s (journalctl -u atelier-products)"
  sleep 0.5
done
echo "activate: $version answering /$probe on port $port" >&2
