"""The kubeadm configuration playbooks/render.yml writes under build/<env>/kubeadm/<host>/, for both
inventories, with the fields kubeadm init reads checked against the inventory they come from."""

from __future__ import annotations

import pytest

from conftest import ROOT, ENVIRONMENTS
from host_helpers import (documents, copy_inventory, hosts_of, inventory_vars, render_kubeadm, role_default)
from k8s_validate import Validator

KUBE = "kubeadm.k8s.io/v1beta4"


def _kube(env, name):
    value = inventory_vars(env, name)
    return role_default("kube", name) if value is None else value


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def default_render(request, tmp_path_factory):
    env = request.param
    tmp = tmp_path_factory.mktemp(f"render-{env}")
    return env, render_kubeadm(ROOT / "inventory" / env, tmp)


def test_one_file_per_control_plane_node_and_nothing_else(default_render):
    env, build = default_render
    groups = hosts_of(ROOT / "inventory" / env)
    assert sorted(p.relative_to(build / "kubeadm").as_posix() for p in (build / "kubeadm").rglob("*.yaml")) == sorted(
        f"{host}/kubeadm-config.yaml" for host in groups["kube_control_plane"])


def test_fields_follow_the_inventory(default_render):
    env, build = default_render
    groups = hosts_of(ROOT / "inventory" / env)
    first, hostvars = next(iter(groups["kube_control_plane"].items()))
    docs = documents(build / "kubeadm" / first / "kubeadm-config.yaml")
    assert list(docs) == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration",
                          "KubeProxyConfiguration"]
    init, cluster, kubelet = docs["InitConfiguration"], docs["ClusterConfiguration"], docs["KubeletConfiguration"]
    assert init["apiVersion"] == cluster["apiVersion"] == KUBE
    assert kubelet["apiVersion"] == "kubelet.config.k8s.io/v1beta1"

    assert cluster["kubernetesVersion"] == inventory_vars(env, "kube_version") == "v1.31.13"
    assert cluster["clusterName"] == _kube(env, "kube_cluster_name")
    assert cluster["networking"] == {"podSubnet": _kube(env, "kube_pod_cidr"),
                                     "serviceSubnet": _kube(env, "kube_service_cidr"),
                                     "dnsDomain": "cluster.local"}
    assert cluster["controlPlaneEndpoint"] == f"{hostvars['node_ip']}:6443"
    assert hostvars["node_ip"] in cluster["apiServer"]["certSANs"]

    assert init["localAPIEndpoint"] == {"advertiseAddress": hostvars["node_ip"], "bindPort": 6443}
    assert init["nodeRegistration"]["name"] == first
    assert init["nodeRegistration"]["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert {"name": "node-ip", "value": hostvars["node_ip"]} in init["nodeRegistration"]["kubeletExtraArgs"]
    assert "skipPhases" not in init
    assert "ignorePreflightErrors" not in init["nodeRegistration"]

    assert kubelet["cgroupDriver"] == "systemd"
    assert kubelet["containerRuntimeEndpoint"] == "unix:///" + role_default("containerd", "containerd_socket")[1:]
    proxy = docs["KubeProxyConfiguration"]
    assert proxy["apiVersion"] == "kubeproxy.config.k8s.io/v1alpha1"
    assert proxy["clusterCIDR"] == _kube(env, "kube_pod_cidr")
    assert proxy["mode"] == "iptables"


def test_kube_proxy_off_skips_its_addon_for_cilium(tmp_path):
    build = render_kubeadm(ROOT / "inventory" / "homelab", tmp_path, {"kube_proxy_enabled": False})
    docs = documents(build / "kubeadm" / "k8s-cp" / "kubeadm-config.yaml")
    assert "KubeProxyConfiguration" not in docs
    assert docs["InitConfiguration"]["skipPhases"] == ["addon/kube-proxy"]


def test_overrides_reach_the_configuration(tmp_path):
    build = render_kubeadm(ROOT / "inventory" / "homelab", tmp_path, {
        "kube_version": "v1.31.4", "kube_pod_cidr": "10.32.0.0/16", "kube_service_cidr": "10.112.0.0/12",
        "kube_dns_domain": "homelab.internal", "kube_cluster_name": "seed", "control_plane_kube_proxy_mode": "ipvs",
        "control_plane_cert_sans": ["api.jiminhome.shop"]})
    docs = documents(build / "kubeadm" / "k8s-cp" / "kubeadm-config.yaml")
    cluster = docs["ClusterConfiguration"]
    assert cluster["kubernetesVersion"] == "v1.31.4"
    assert cluster["clusterName"] == "seed"
    assert cluster["networking"] == {"podSubnet": "10.32.0.0/16", "serviceSubnet": "10.112.0.0/12",
                                     "dnsDomain": "homelab.internal"}
    assert "api.jiminhome.shop" in cluster["apiServer"]["certSANs"]
    assert docs["KubeletConfiguration"]["clusterDomain"] == "homelab.internal"
    assert docs["KubeProxyConfiguration"]["mode"] == "ipvs"
    assert docs["KubeProxyConfiguration"]["clusterCIDR"] == "10.32.0.0/16"


HA_HOSTS = {"all": {"children": {
    "kube_control_plane": {"hosts": {
        "k8s-cp1": {"ansible_host": "192.168.1.187", "node_ip": "192.168.1.187"},
        "k8s-cp2": {"ansible_host": "192.168.1.188", "node_ip": "192.168.1.188"},
        "k8s-cp3": {"ansible_host": "192.168.1.189", "node_ip": "192.168.1.189"}}},
    "kube_node": {"hosts": {"k8s-worker1": {"ansible_host": "192.168.1.190", "node_ip": "192.168.1.190"}}},
    "k8s_cluster": {"children": {"kube_control_plane": {}, "kube_node": {}}}}}}
VIP = "192.168.1.186"


@pytest.fixture(scope="module")
def ha_render(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ha")
    inventory = copy_inventory(tmp, hosts=HA_HOSTS)
    build = render_kubeadm(inventory, tmp, {"kube_vip_enabled": True, "kube_vip_address": VIP})
    return inventory, tmp, build


def test_ha_control_planes_share_the_virtual_ip_endpoint(ha_render):
    _, _, build = ha_render
    nodes = HA_HOSTS["all"]["children"]["kube_control_plane"]["hosts"]
    assert sorted(p.relative_to(build / "kubeadm").as_posix() for p in (build / "kubeadm").rglob("*.yaml")) == sorted(
        [f"{h}/kubeadm-config.yaml" for h in nodes] + [f"{h}/kube-vip.yaml" for h in nodes])
    for host, hostvars in nodes.items():
        docs = documents(build / "kubeadm" / host / "kubeadm-config.yaml")
        cluster, init = docs["ClusterConfiguration"], docs["InitConfiguration"]
        assert cluster["controlPlaneEndpoint"] == f"{VIP}:6443"
        assert set(cluster["apiServer"]["certSANs"]) >= {VIP, *(v["node_ip"] for v in nodes.values()), *nodes}
        assert init["localAPIEndpoint"]["advertiseAddress"] == hostvars["node_ip"]
        # The kube-vip manifest sits in /etc/kubernetes/manifests before init.
        assert init["nodeRegistration"]["ignorePreflightErrors"] == ["DirAvailable--etc-kubernetes-manifests"]


def test_ha_kube_vip_manifests_are_valid_pods_announcing_the_vip(ha_render):
    _, _, build = ha_render
    validator = Validator("1.31")
    nodes = list(HA_HOSTS["all"]["children"]["kube_control_plane"]["hosts"])
    for host in nodes:
        pod = documents(build / "kubeadm" / host / "kube-vip.yaml")["Pod"]
        assert validator.validate_document(pod) == []
        container = pod["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["address"] == VIP and env["port"] == "6443" and env["cp_enable"] == "true"
        assert "vip_interface" not in env
        assert container["image"] == inventory_vars("homelab", "control_plane_kube_vip_image")
        assert pod["spec"]["hostNetwork"] is True
        kubeconfig = pod["spec"]["volumes"][0]["hostPath"]["path"]
        # kubeadm init (1.29+) only grants admin.conf its rights at the end: the first node uses super-admin.conf.
        assert kubeconfig == ("/etc/kubernetes/super-admin.conf" if host == nodes[0] else "/etc/kubernetes/admin.conf")


def test_switching_ha_off_removes_the_kube_vip_manifest(tmp_path):
    inventory = ROOT / "inventory" / "homelab"
    build = render_kubeadm(inventory, tmp_path, {"kube_vip_enabled": True, "kube_vip_address": VIP})
    assert (build / "kubeadm" / "k8s-cp" / "kube-vip.yaml").is_file()
    render_kubeadm(inventory, tmp_path, {"kube_vip_enabled": False}, build=build)
    assert sorted(p.name for p in (build / "kubeadm" / "k8s-cp").iterdir()) == ["kubeadm-config.yaml"]


def test_only_inventory_values_are_used():
    """The render play contacts no host: connection local and no fact gathering."""
    import yaml
    plays = yaml.safe_load((ROOT / "playbooks" / "render.yml").read_text(encoding="utf-8"))
    play = next(p for p in plays if p.get("name", "").startswith("Render | kubeadm"))
    assert play["connection"] == "local" and play["gather_facts"] is False
    assert play["tasks"][0]["ansible.builtin.import_role"] == {"name": "homelab.stack.control_plane",
                                                               "tasks_from": "render"}
