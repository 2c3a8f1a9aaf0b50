"""What site.yml really did: the nodes' state (testinfra over SSH) and the render-only output on the controller."""

from __future__ import annotations

import os
from pathlib import Path

import testinfra.utils.ansible_runner
import yaml

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
KEY = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / ".lab" / "ssh" / "id_ed25519"
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
NODES = ["k8s-cp", "k8s-worker1", "k8s-worker2"]
# The key is not an inventory variable here (molecule.yml sets ANSIBLE_PRIVATE_KEY_FILE): hand it to testinfra.
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}&ssh_identity_file={KEY}"
                   for name in RUNNER.get_hosts("k8s_cluster")]
BUILD = Path(os.environ["HOMELAB_BUILD_DIR"])
SOCKET = "/run/containerd/containerd.sock"


def test_inventory_is_the_three_seed_nodes_on_this_subnet():
    assert RUNNER.get_hosts("k8s_cluster") == NODES
    assert RUNNER.get_hosts("kube_control_plane") == ["k8s-cp"]
    assert RUNNER.get_hosts("kube_node") == ["k8s-worker1", "k8s-worker2"]
    assert [RUNNER.get_variables(n)["node_ip"] for n in NODES] == ["172.30.24.10", "172.30.24.11", "172.30.24.12"]


def test_hosts_block_lists_every_node(host):
    lines = host.file("/etc/hosts").content_string.splitlines()
    begin = lines.index("# BEGIN homelab.stack: Kubernetes nodes")
    end = lines.index("# END homelab.stack: Kubernetes nodes")
    assert lines[begin + 1:end] == ["172.30.24.10 k8s-cp", "172.30.24.11 k8s-worker1", "172.30.24.12 k8s-worker2"]
    assert host.check_output("hostname") == host.backend.get_hostname()


def test_kubernetes_sysctls_on_disk_and_namespaced_ones_live(host):
    on_disk = dict(line.split("=", 1) for line in host.file("/etc/sysctl.d/99-kubernetes.conf")
                   .content_string.splitlines() if "=" in line and not line.startswith("#"))
    assert on_disk["net.ipv4.ip_forward"] == "1"
    assert on_disk["net.bridge.bridge-nf-call-iptables"] == "1"
    assert on_disk["fs.inotify.max_user_watches"] == "524288"
    values = host.check_output("sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables").split()
    assert values == ["1", "1"]


def test_containerd_runs_with_the_configuration_site_wrote(host):
    assert host.service("containerd").is_running and host.service("containerd").is_enabled
    assert host.socket(f"unix://{SOCKET}").is_listening
    dump = host.check_output("containerd config dump")
    assert "SystemdCgroup = true" in dump
    assert 'sandbox_image = "registry.k8s.io/pause:3.10"' in dump
    assert 'config_path = "/etc/containerd/certs.d"' in dump


def test_kubeadm_configuration_on_control_planes_only_and_no_kubeadm(host):
    config = host.file("/etc/kubernetes/kubeadm-config.yaml")
    if host.backend.get_hostname() == "k8s-cp":
        assert config.mode == 0o600
        kinds = [doc["kind"] for doc in yaml.safe_load_all(config.content_string) if doc]
        assert {"InitConfiguration", "ClusterConfiguration"} <= set(kinds)
        assert "172.30.24.10" in config.content_string
    else:
        assert not config.exists
    # Render-only: nothing came from pkgs.k8s.io.
    assert host.run("command -v kubeadm").rc != 0


def test_render_only_output_under_the_scenario_build_dir():
    assert BUILD.is_dir(), BUILD
    assert sorted(p.name for p in BUILD.iterdir()) == ["gitops", "kubeadm", "manifests", "values"]
    assert (BUILD / "kubeadm" / "k8s-cp" / "kubeadm-config.yaml").is_file()
    assert not (BUILD / "kubeadm" / "k8s-worker1").exists()
    values = {p.stem for p in (BUILD / "values").glob("*.yaml")}
    assert {"cilium", "metallb", "istio-base", "istiod", "longhorn", "argocd", "argo-rollouts", "prometheus",
            "grafana", "loki", "tempo", "alloy", "falco", "falco-talon"} <= values
    assert any((BUILD / "manifests" / "metallb").glob("*.yaml"))
    assert any((BUILD / "gitops" / "blog-system").rglob("*.yaml"))
    # This inventory's addresses, not the lab's or the seed's.
    pool = "\n".join(p.read_text() for p in (BUILD / "manifests" / "metallb").glob("*.yaml"))
    assert "172.30.24.200-172.30.24.210" in pool
    # Secrets are redacted in files: no fake secret of the inventory is on disk.
    for path in BUILD.rglob("*.yaml"):
        assert "FAKE-SECRET" not in path.read_text(), path
