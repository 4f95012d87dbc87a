#!/usr/bin/env bash
# rollout.sh VERSION HOST:PORT...: a rolling deploy (or rollback: the previous VERSION) of the
# instances behind this load balancer, one at a time, run on the load balancer host:
#   1. take the instance out of nginx's upstream (`down` in upstream.conf, graceful reload) and
#      wait until no nginx worker of the old configuration is left;
#   2. activate VERSION on it (stop: it drains; switch /opt/atelier/current; start);
#   3. wait until its /readyz answers 200 naming VERSION;
#   4. put it back (reload), then the next one.
# A step that fails stops the roll with that instance left out of the upstream (the others keep
# serving); fix it and run the same command again (instances already on VERSION are quick).
#
# Settings (environment):
#   ATELIER_NGINX_PREFIX  nginx's prefix holding nginx.conf and upstream.conf (/etc/atelier-nginx)
#   ATELIER_NGINX         the nginx binary (/usr/sbin/nginx)
#   ATELIER_ACTIVATE      command run as `$ATELIER_ACTIVATE HOST:PORT VERSION` (default: over ssh,
#                         `sudo /opt/atelier/VERSION/deploy/activate.sh VERSION` on HOST)
#   ATELIER_READY_TIMEOUT seconds an instance gets to answer /readyz with VERSION (60)
set -euo pipefail

die() { echo "rollout: $*" >&2; exit 1; }
say() { echo "rollout: $*" >&2; }
[ $# -ge 2 ] || die "usage: rollout.sh VERSION HOST:PORT [HOST:PORT...]"
version=$1; shift
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] || die "not a version: \"$version\""
prefix=${ATELIER_NGINX_PREFIX:-/etc/atelier-nginx}
nginx=${ATELIER_NGINX:-/usr/sbin/nginx}
timeout=${ATELIER_READY_TIMEOUT:-60}
upstreams="$prefix/upstream.conf"
[ -f "$upstreams" ] || die "no $upstreams"
for instance in "$@"; do
  [[ $instance =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] || die "not HOST:PORT: \"$instance\""
  grep -Eq "^server $instance( |;)" "$upstreams" || die "$instance is not in $upstreams"
done

activate() {
  if [ -n "${ATELIER_ACTIVATE:-}" ]; then
    $ATELIER_ACTIVATE "$1" "$version"
  else
    ssh -o BatchMode=yes "${1%:*}" sudo "/opt/atelier/$version/deploy/activate.sh" "$version"
  fi
}

# Marks one server line down (or up again) and reloads nginx gracefully. The file is rewritten
# beside itself and renamed, so nginx never reads half of it.
set_down() {
  local instance=$1 down=$2
  awk -v target="$instance" -v down="$down" '
    $1 == "server" && $2 == target {
      sub(/ down;$/, ";")
      if (down == "yes") sub(/;$/, " down;")
    }
    { print }' "$upstreams" > "$upstreams.new"
  mv "$upstreams.new" "$upstreams"
  "$nginx" -t -q -p "$prefix/" -e stderr -c "$prefix/nginx.conf"
  "$nginx" -p "$prefix/" -e stderr -c "$prefix/nginx.conf" -s reload
}

# After a reload the old workers finish their requests, then exit; until they have, some may
# still send to the instance taken out.
old_workers_gone() {
  local master deadline=$((SECONDS + 30))
  master=$(cat "$prefix/nginx.pid")
  while pgrep -P "$master" -f 'worker process is shutting down' >/dev/null; do
    [ $SECONDS -lt $deadline ] || { say "old nginx workers still finishing after 30 s; going on"; return; }
    sleep 0.2
  done
}

ready() {
  local deadline=$((SECONDS + timeout))
  until curl -fsS --max-time 2 "http://$1/readyz" 2>/dev/null | grep -q "\"version\":\"$version\""; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

for instance in "$@"; do
  say "$instance: out of the upstream"
  set_down "$instance" yes
  old_workers_gone
  say "$instance: activating $version"
  activate "$instance" || die "$instance: activation failed; it stays out of the upstream"
  ready "$instance" || die "$instance: not ready with $version after ${timeout}s; it stays out of the upstream"
  set_down "$instance" no
  say "$instance: back in the upstream, serving $version"
done
say "done: $* on $version"
