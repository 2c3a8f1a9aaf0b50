"""The host layer's real state on every node of the scenario (testinfra over SSH, ansible backend)."""

from __future__ import annotations

import os

import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
HOSTS = RUNNER.get_hosts("k8s_cluster")
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in HOSTS]

SOCKET = "/run/containerd/containerd.sock"


def _name(host):
    return host.backend.get_hostname()


def test_three_nodes():
    assert sorted(HOSTS) == ["k8s-cp", "k8s-worker1", "k8s-worker2"]


def test_hostname_and_managed_hosts_block(host):
    assert host.check_output("hostname") == _name(host)
    lines = host.file("/etc/hosts").content_string.splitlines()
    begin = lines.index("# BEGIN homelab.stack: Kubernetes nodes")
    end = lines.index("# END homelab.stack: Kubernetes nodes")
    expected = [f"{RUNNER.get_variables(n)['node_ip']} {n}" for n in ("k8s-cp", "k8s-worker1", "k8s-worker2")]
    assert lines[begin + 1:end] == expected
    # Lines the lab wrote (the mirror, localhost) are still there, outside the block.
    mirror = os.environ.get("LAB_MIRROR_HOST")
    assert mirror, "LAB_MIRROR_HOST unset: eval the output of lab/mirror.sh first"
    assert any(mirror in line for line in lines[:begin] + lines[end + 1:])
    assert any(line.split()[:1] == ["127.0.0.1"] for line in lines)


def test_swap_off_now_and_in_fstab(host):
    assert host.check_output("swapon --show --noheadings") == ""
    fstab = host.file("/etc/fstab").content_string.splitlines()
    active = [line for line in fstab if line.split()[2:3] == ["swap"] and not line.lstrip().startswith("#")]
    assert active == []
    # prepare.yml planted a swap line: it is commented out, not deleted.
    assert "# /swapfile none swap sw 0 0  # swap off for kubelet (homelab.stack)" in fstab


def test_modules_load_file(host):
    modules = host.file("/etc/modules-load.d/kubernetes.conf")
    assert modules.mode == 0o644
    assert [line for line in modules.content_string.splitlines() if not line.startswith("#")] == [
        "overlay", "br_netfilter"]


def test_kubernetes_sysctls_live_and_on_disk(host):
    on_disk = dict(line.split("=", 1) for line in host.file("/etc/sysctl.d/99-kubernetes.conf")
                   .content_string.splitlines() if "=" in line and not line.startswith("#"))
    assert on_disk == {"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1",
                       "net.bridge.bridge-nf-call-ip6tables": "1", "fs.inotify.max_user_instances": "8192",
                       "fs.inotify.max_user_watches": "524288"}
    for key in ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"):
        assert host.check_output(f"sysctl -n {key}") == "1", key


def test_host_wide_sysctls_written_but_not_applied_in_a_container(host):
    before = host.file("/var/tmp/inotify-watches-before").content_string.strip()
    assert before != "524288", "the docker host already has this value: the test cannot tell"
    assert host.check_output("sysctl -n fs.inotify.max_user_watches") == before


def test_node_packages_installed(host):
    for package in ("conntrack", "socat", "ipset", "ebtables", "ethtool", "iptables", "open-iscsi", "nfs-common",
                    "curl", "gpg", "ca-certificates"):
        assert host.package(package).is_installed, package
    # A container uses the host's clock: no chrony there.
    assert not host.package("chrony").is_installed


def test_containerd_running_with_systemd_cgroups(host):
    service = host.service("containerd")
    assert service.is_running and service.is_enabled
    assert host.socket(f"unix://{SOCKET}").is_listening
    # What the running daemon parsed, not only the file: containerd's own view of its configuration.
    dump = host.check_output("containerd config dump")
    assert "SystemdCgroup = true" in dump
    assert 'sandbox_image = "registry.k8s.io/pause:3.10"' in dump
    assert 'config_path = "/etc/containerd/certs.d"' in dump
    config = host.file("/etc/containerd/config.toml")
    assert config.user == "root" and config.mode == 0o644


def test_crictl_configured_for_the_containerd_socket(host):
    crictl = host.file("/etc/crictl.yaml").content_string
    assert f"runtime-endpoint: unix://{SOCKET}" in crictl
    assert f"image-endpoint: unix://{SOCKET}" in crictl
    # Debian 12 does not package crictl (it comes with kubeadm from pkgs.k8s.io, cri-tools), so it is absent
    # here; the CRI socket crictl.yaml names answers to containerd's own client instead.
    assert host.run("which crictl").rc != 0
    version = host.check_output(f"ctr --address {SOCKET} version")
    assert "Server:" in version and "Version:" in version


def test_nothing_installed_from_kubernetes_in_render_only_mode(host):
    assert not host.file("/etc/apt/sources.list.d/kubernetes.sources").exists
    assert host.run("which kubeadm").rc != 0
