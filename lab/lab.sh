#!/usr/bin/env bash
# The local lab: the nodes of inventory/lab as privileged systemd containers on their own network, reached over
# SSH like real hosts.   lab.sh up | down | status
#   up      create what is missing, wait for systemd and sshd, prove it with `ansible -m ping` (no-op when up)
#   down    remove every container, volume and network of the lab, and the fact cache of its nodes
#   status  one line per node
# LAB_INVENTORY=<dir> reads the nodes from another inventory laid out like inventory/lab (make bench uses a
# generated 6- and 12-node one under build/); down removes every lab node whatever the inventory.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

network=homelab-lab
label=io.homelab.lab=true
python=$LAB_VENV/bin/python
inventory=${LAB_INVENTORY:-$LAB_ROOT/inventory/lab}

container() { echo "$network-$1"; }
volume() { echo "$network-$1-containerd"; }

# Sets `subnet` and the parallel arrays `names` / `addresses` from the inventory (never from this script).
read_inventory() {
  local kind a b parsed
  [ -x "$python" ] || die "$python is missing: run make setup"
  parsed=$("$python" "$LAB_DIR/inventory.py" "$inventory/hosts.yml" "$inventory/group_vars/all/main.yml") ||
    die "cannot read the lab's nodes from $inventory"
  names=() addresses=()
  while read -r kind a b; do
    case $kind in
      subnet) subnet=$a ;;
      node) names+=("$a") addresses+=("$b") ;;
    esac
  done <<<"$parsed"
}

state_of() {
  local state
  state=$(docker container inspect -f '{{.State.Status}}' "$1" 2>/dev/null) || state=absent
  echo "$state"
}

ensure_network() {
  local current
  if current=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$network" 2>/dev/null); then
    [ "$current" = "$subnet" ] ||
      die "network $network has subnet $current, the inventory wants $subnet: run lab.sh down"
    return
  fi
  docker network create --driver bridge --subnet "$subnet" --label "$label" \
    -o com.docker.network.bridge.name=br-homelab-lab "$network" >/dev/null
  say "created network $network ($subnet)"
}

start_node() {
  local name=$1 address=$2 box i hosts=()
  for i in "${!names[@]}"; do hosts+=(--add-host "${names[$i]}:${addresses[$i]}"); done
  box=$(container "$name")
  case $(state_of "$box") in
    running)
      [ "$(docker inspect -f '{{.Image}}' "$box")" = "$latest" ] ||
        say "note: $box runs an older image than $LAB_IMAGE:latest (lab.sh down && lab.sh up to refresh)"
      return 1
      ;;
    absent) ;;
    *) docker start "$box" >/dev/null && say "started $box" && return 0 ;;
  esac
  docker volume create --label "$label" "$(volume "$name")" >/dev/null
  # privileged: sysctls and iptables like a host; cgroupns=host: systemd and containerd see real cgroups;
  # containerd needs a real file system (overlay on overlay fails); names (nodes, mirror) come from /etc/hosts
  # and nothing else resolves (lab/node-resolv.conf).
  docker run --detach --name "$box" --hostname "$name" --label "$label" \
    --network "$network" --ip "$address" \
    --privileged --cgroupns=host \
    --volume "$(volume "$name"):/var/lib/containerd" \
    --add-host "$LAB_MIRROR_HOST:$LAB_MIRROR_IP" "${hosts[@]}" \
    --mount "type=bind,source=$LAB_DIR/node-resolv.conf,target=/etc/resolv.conf,readonly" \
    --mount "type=bind,source=$LAB_SSH_KEY.pub,target=/etc/homelab-lab/authorized_keys,readonly" \
    "$LAB_IMAGE:latest" >/dev/null
  say "created $box ($address)"
}

wait_node() {
  local name=$1 address=$2 box state
  box=$(container "$name")
  # Right after a (re)start the system bus may not answer yet: ask again until systemd gives a state.
  local deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(timeout 60 docker exec "$box" systemctl is-system-running --wait 2>/dev/null || true)
    case $state in running | degraded | maintenance | stopping) break ;; esac
    sleep 1
  done
  case $state in
    running) ;;
    degraded)
      # A converged node restarted may have units a container cannot run (nfs-common's rpc_pipefs mount):
      # sshd is what the lab needs, and it is checked below.
      docker exec "$box" systemctl --failed --no-legend --plain 2>/dev/null |
        sed "s/^/  $name: degraded, failed unit /" >&2
      ;;
    *)
      docker exec "$box" systemctl --failed --no-legend --plain 2>/dev/null | sed "s/^/  $name: failed unit /" >&2
      die "$box: systemd is '${state:-unreachable}', not running"
      ;;
  esac
  for _ in $(seq 60); do
    timeout 1 bash -c "exec 3<>/dev/tcp/$address/22" 2>/dev/null && return 0
    sleep 0.5
  done
  die "$box: sshd does not answer on $address:22"
}

# The proof: Ansible loads the whole lab inventory (vault included) and reaches every node over SSH.
ping_nodes() {
  local output pongs
  output=$(
    cd "$LAB_ROOT" &&
      ANSIBLE_CONFIG=$LAB_ROOT/ansible.cfg ANSIBLE_VAULT_PASSWORD_FILE=$LAB_STATE/vault-password \
        "$LAB_VENV/bin/ansible" -i "$inventory" k8s_cluster -m ansible.builtin.ping 2>&1
  ) || true
  pongs=$(grep -c '"ping": "pong"' <<<"$output" || true)
  if [ "$pongs" -ne "${#names[@]}" ]; then
    printf '%s\n' "$output" >&2
    die "ansible.builtin.ping: $pongs of ${#names[@]} nodes answered"
  fi
}

up() {
  local i started=()
  latest=$(docker image inspect -f '{{.Id}}' "$LAB_IMAGE:latest" 2>/dev/null) ||
    die "no $LAB_IMAGE:latest image: run make image"
  if [ ! -s "$LAB_SSH_KEY.pub" ] || [ ! -s "$LAB_STATE/vault-password" ]; then
    "$LAB_DIR/secrets.sh"
  fi
  load_mirror
  "$LAB_DIR/egress.sh" >/dev/null
  ensure_network
  for i in "${!names[@]}"; do
    if start_node "${names[$i]}" "${addresses[$i]}"; then started+=("$i"); fi
  done
  if [ ${#started[@]} -eq 0 ]; then
    say "lab is up (${#names[@]} nodes): nothing to do"
    return
  fi
  # Only the nodes started now: a converged node may be 'degraded' (units a container cannot run).
  for i in "${started[@]}"; do wait_node "${names[$i]}" "${addresses[$i]}"; done
  ping_nodes
  say "lab is up: ${names[*]} answer ansible.builtin.ping over SSH"
}

down() {
  local containers volumes
  mapfile -t containers < <(docker ps -aq --filter "label=$label")
  [ ${#containers[@]} -eq 0 ] || docker rm -f -v "${containers[@]}" >/dev/null
  mapfile -t volumes < <(docker volume ls -q --filter "label=$label")
  [ ${#volumes[@]} -eq 0 ] || docker volume rm "${volumes[@]}" >/dev/null
  if docker network inspect "$network" >/dev/null 2>&1; then docker network rm "$network" >/dev/null; fi
  # Facts of removed nodes would describe the next, fresh ones wrongly.
  rm -rf "$LAB_ROOT/.cache/facts"
  say "lab removed (${#containers[@]} containers, ${#volumes[@]} volumes, network $network)"
}

status() {
  local i box
  printf '%-12s %-24s %-14s %-8s %s\n' NODE CONTAINER ADDRESS STATE SYSTEMD
  for i in "${!names[@]}"; do
    box=$(container "${names[$i]}")
    state=$(state_of "$box")
    systemd=-
    if [ "$state" = running ]; then
      systemd=$(docker exec "$box" systemctl is-system-running 2>/dev/null || true)
    fi
    printf '%-12s %-24s %-14s %-8s %s\n' "${names[$i]}" "$box" "${addresses[$i]}" "$state" "${systemd:-?}"
  done
}

engine=true
docker info >/dev/null 2>&1 || engine=false
case ${1:-} in
  up | status)
    [ "$engine" = true ] || die "no Docker engine answers: run lab/docker.sh (make docker)"
    read_inventory && "$1"
    ;;
  down)
    if [ "$engine" = true ]; then down; else
      # `make clean` on a machine without Docker: no container can exist, only stale facts.
      rm -rf "$LAB_ROOT/.cache/facts"
      say "no Docker engine answers: nothing to remove"
    fi
    ;;
  *) die "usage: lab.sh up|down|status" ;;
esac
