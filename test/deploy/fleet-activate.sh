#!/usr/bin/env bash
# ATELIER_ACTIVATE for deploy/rollout.sh against a local `npm run fleet -- --release ROOT/current`:
# the fleet's instances share one install, so "activate VERSION on HOST:PORT" is: point
# ROOT/current at VERSION (a no-op after the first instance), then stop that instance's
# primary (SIGTERM: it drains) and wait for it to exit. The fleet restarts it, as systemd's
# Restart=always would, from the link, now VERSION. ATELIER_ROOT and FLEET_RUN_DIR come from
# the test's environment.
set -euo pipefail
instance=$1
version=$2
[ -d "$ATELIER_ROOT/$version" ] || { echo "fleet-activate: $version is not installed" >&2; exit 1; }
ln -sfn "$version" "$ATELIER_ROOT/.current.new"
mv -T "$ATELIER_ROOT/.current.new" "$ATELIER_ROOT/current"
pid=$(cat "$FLEET_RUN_DIR/pids/${instance##*:}.pid")
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
