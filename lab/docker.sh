#!/usr/bin/env bash
# A Docker engine that answers and can run privileged systemd nodes, plus the lab's egress guard.
# Fast and silent-ish when all is in place: one `docker info` and a few iptables checks.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

runtime_name=homelab-capfilter
runtime_path=/usr/local/libexec/homelab-lab/runc-capfilter
daemon_json=/etc/docker/daemon.json
log=/var/log/homelab-dockerd.log

command -v dockerd >/dev/null || die "dockerd is not installed: run lab/deps.sh (make deps)"
need_root "configures and starts dockerd"

# True when this process's bounding set lacks a capability the kernel knows: then a --privileged container
# asks runc for more than it can grant and needs the wrapper.
caps_missing() {
  local last mask bnd
  last=$(cat /proc/sys/kernel/cap_last_cap)
  mask=$(((1 << (last + 1)) - 1))
  bnd=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  [ $((bnd & mask)) -ne "$mask" ]
}

engine_up() { docker info >/dev/null 2>&1; }

reloaded=false
if caps_missing; then
  if ! cmp -s "$LAB_DIR/runc-capfilter" "$runtime_path"; then
    install -D -m 0755 "$LAB_DIR/runc-capfilter" "$runtime_path"
    say "installed $runtime_path (this host's capability bounding set is reduced)"
  fi
  if [ "$(python3 "$LAB_DIR/daemon_json.py" "$daemon_json" "$runtime_name" "$runtime_path")" = changed ]; then
    say "registered $runtime_name as the default runtime in $daemon_json"
    # runtimes and default-runtime are reloadable: a running engine takes them on SIGHUP, containers keep running.
    if engine_up && [ -s /var/run/docker.pid ]; then
      kill -HUP "$(cat /var/run/docker.pid)"
      reloaded=true
    fi
  fi
fi

if ! engine_up; then
  if [ "$(ps -p 1 -o comm=)" = systemd ]; then
    systemctl start docker
  else
    say "starting dockerd (log: $log)"
    # setsid: the engine must outlive this script, its terminal and its process group.
    setsid /usr/sbin/dockerd >>"$log" 2>&1 </dev/null &
  fi
  for _ in $(seq 60); do
    engine_up && break
    sleep 0.5
  done
  engine_up || die "dockerd does not answer after 30 s; see $log"
fi

if caps_missing; then
  for _ in $(seq 20); do
    [ "$(docker info --format '{{.DefaultRuntime}}')" = "$runtime_name" ] && break
    [ "$reloaded" = true ] || break
    sleep 0.25
  done
  [ "$(docker info --format '{{.DefaultRuntime}}')" = "$runtime_name" ] ||
    die "dockerd does not use $runtime_name; restart it to read $daemon_json"
fi
say "engine answers: $(docker info --format 'server {{.ServerVersion}}, runtime {{.DefaultRuntime}}')"

"$LAB_DIR/egress.sh"
