#!/usr/bin/env bash
# rollout.sh VERSION HOST:PORT...: a rolling deploy (or rollback: the previous VERSION) of the
# instances behind this load balancer, one at a time, run on the load balancer host:
#   1. activate VERSION on the instance: stop it (SIGTERM: it stops accepting at once and drains
#      what it holds), switch /opt/atelier/current, start it;
#   2. wait until its /readyz answers 200 naming VERSION;
#   3. wait nginx's fail_timeout (5 s) and 1 s more, so nginx has taken it back, then the next
#      one. Without this wait a quick roll leaves nginx with every instance marked failed at
#      once, and it answers 503 itself ("no live upstreams": seen in test/deploy/rollout.test.ts).
# The instance leaves nginx's rotation by itself: from the moment it drains, a request nginx
# sends it is refused, nginx retries it on the next instance (proxy_next_upstream, GETs only)
# and, after 2 failures, skips the instance for 5 s (max_fails/fail_timeout); once it answers
# again nginx takes it back. No nginx reload: a graceful reload closes the old workers' idle
# keep-alive client connections, racing each client's next request (a request already sent on
# one gets a reset); test/deploy/rollout.test.ts asserts 0 failed requests without reloads.
# Edit upstream.conf and reload only to add or remove an instance for good.
# A step that fails stops the roll (the instance stays out of rotation while it refuses
# connections; the others keep serving); fix it and run the same command again.
#
# Settings (environment):
#   ATELIER_NGINX_PREFIX  nginx's prefix holding upstream.conf, to check the instances (/etc/atelier-nginx)
#   ATELIER_ACTIVATE      command run as `$ATELIER_ACTIVATE HOST:PORT VERSION` (default: over ssh,
#                         `sudo /opt/atelier/VERSION/deploy/activate.sh VERSION` on HOST)
#   ATELIER_READY_TIMEOUT seconds an instance gets to answer /readyz with VERSION (60)
#   ATELIER_SETTLE        seconds between an instance's readiness and the next one's stop (6:
#                         fail_timeout=5s in src/fleet/nginx-config.ts, plus 1)
set -euo pipefail

die() { echo "rollout: $*" >&2; exit 1; }
say() { echo "rollout: $*" >&2; }
[ $# -ge 2 ] || die "usage: rollout.sh VERSION HOST:PORT [HOST:PORT...]"
version=$1; shift
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] || die "not a version: \"$version\""
prefix=${ATELIER_NGINX_PREFIX:-/etc/atelier-nginx}
timeout=${ATELIER_READY_TIMEOUT:-60}
settle=${ATELIER_SETTLE:-6}
[[ $settle =~ ^[0-9]+$ && $timeout =~ ^[0-9]+$ ]] || die "ATELIER_SETTLE and ATELIER_READY_TIMEOUT are whole seconds"
upstreams="$prefix/upstream.conf"
[ -f "$upstreams" ] || die "no $upstreams"
for instance in "$@"; do
  [[ $instance =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] || die "not HOST:PORT: \"$instance\""
  awk -v target="$instance" '$1 == "server" && ($2 == target || $2 == target ";") { found = 1 } END { exit !found }' "$upstreams" ||
    die "$instance is not in $upstreams"
done

activate() {
  if [ -n "${ATELIER_ACTIVATE:-}" ]; then
    $ATELIER_ACTIVATE "$1" "$version"
  else
    ssh -o BatchMode=yes "${1%:*}" sudo "/opt/atelier/$version/deploy/activate.sh" "$version"
  fi
}

ready() {
  local deadline=$((SECONDS + timeout))
  # Not `curl | grep -q`: under pipefail, grep closing the pipe early would read as "not ready".
  until [[ "$(curl -fsS --max-time 2 "http://$1/readyz" 2>/dev/null || true)" == *"\"version\":\"$version\""* ]]; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

for instance in "$@"; do
  say "$instance: activating $version"
  activate "$instance" || die "$instance: activation failed"
  ready "$instance" || die "$instance: not ready with $version after ${timeout}s"
  say "$instance: serving $version; ${settle}s for nginx to take it back"
  sleep "$settle"
done
say "done: $* on $version"
