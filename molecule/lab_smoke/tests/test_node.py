"""The lab node contract, checked on every node of the scenario over SSH (testinfra, ansible backend)."""

import os

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("k8s_cluster")
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in HOSTS]


def mirror():
    """(name, address) the run gave the nodes; missing means the run is misconfigured: fail, never skip."""
    name, address = os.environ.get("LAB_MIRROR_HOST"), os.environ.get("LAB_MIRROR_IP")
    assert name and address, "LAB_MIRROR_HOST/LAB_MIRROR_IP unset: eval the output of lab/mirror.sh first"
    return name, address


def test_three_nodes_with_the_seed_names():
    assert sorted(HOSTS) == ["k8s-cp", "k8s-worker1", "k8s-worker2"]


def test_systemd_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state == "running", failed


def test_sshd_listens_and_takes_keys_only(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening
    config = host.check_output("sshd -T")
    assert "passwordauthentication no" in config
    assert "pubkeyauthentication yes" in config
    assert "permitrootlogin no" in config


def test_ansible_user_sudo_without_password(host):
    user = host.user("ansible")
    assert user.exists
    assert user.password == "*"  # no password at all: keys only
    assert host.run("sudo -n -u ansible -- sudo -n id -u").stdout.strip() == "0"


def test_python3_with_apt_bindings(host):
    assert host.run("python3 -c 'import apt, sys; print(sys.version_info[0])'").stdout.strip() == "3"


def test_hostname_is_the_inventory_name(host):
    assert host.check_output("hostname") == host.backend.get_hostname()


def test_mirror_entry_in_etc_hosts(host):
    name, address = mirror()
    entries = [line.split() for line in host.file("/etc/hosts").content_string.splitlines()]
    assert [address, name] in [entry[:2] for entry in entries]
    assert host.check_output(f"getent ahostsv4 {name}").split()[0] == address


def test_no_dns_leaves_the_node(host):
    """Names outside /etc/hosts fail at once: the resolver is the node's own loopback, where nothing listens."""
    nameservers = [line.split()[1] for line in host.file("/etc/resolv.conf").content_string.splitlines()
                   if line.startswith("nameserver")]
    assert nameservers == ["127.0.0.1"]
    result = host.run("bash -c 'TIMEFORMAT=%R; time getent ahosts lab-smoke.invalid'")
    assert result.rc == 2  # getent: not found
    assert float(result.stderr.strip().splitlines()[-1]) < 0.5, result.stderr


def test_egress_guard_opens_only_the_mirror_web_ports(host):
    """lab/egress.sh: the mirror answers on 80; any other port (or address) is rejected on the host, at once."""
    _, address = mirror()
    assert host.run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/80'").rc == 0
    blocked = host.run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/22'")
    assert blocked.rc == 1 and "No route to host" in blocked.stderr, blocked.stderr


def test_apt_update_through_the_mirror(host):
    name, _ = mirror()
    sources = host.file("/etc/apt/sources.list").content_string
    assert f"://{name}/" in sources
    result = host.run("apt-get update -o Acquire::Retries=2 2>&1")
    assert result.rc == 0, result.stdout
    assert "Err:" not in result.stdout and "W: " not in result.stdout, result.stdout
    assert host.run("apt-cache policy python3 | grep -c 'http'").stdout.strip() != "0"


def test_containerd_dir_is_its_own_mount(host):
    mount = host.mount_point("/var/lib/containerd")
    assert mount.exists
    assert mount.filesystem != "overlay"


def test_apt_lists_look_stale(host):
    # An empty, fresh-looking cache makes `apt: cache_valid_time` skip the update (environment-facts).
    assert not host.file("/var/lib/apt/periodic/update-success-stamp").exists


@pytest.mark.parametrize("path", ["/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key.pub"])
def test_identity_is_made_per_node(path):
    """Not baked into the image: every node has its own machine-id and SSH host key."""
    values = {name: testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}").file(path)
              .content_string.strip() for name in HOSTS}
    assert all(values.values())
    assert len(set(values.values())) == len(HOSTS), values
