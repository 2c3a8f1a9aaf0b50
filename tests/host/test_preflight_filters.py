"""The host-layer checks of plugins/module_utils/preflight.py: each message names the variable, the value and
the fix; valid input gives no message."""

from __future__ import annotations

import string

from hypothesis import given, strategies as st

from ansible_collections.homelab.stack.plugins.module_utils.preflight import (
    checksum_errors, token_ttl_errors, topology_errors)

NAMES = ["kubeadm", "kubelet", "kubectl"]
SHA = "a" * 64
SEED_GROUPS = {"kube_control_plane": ["k8s-cp"], "kube_node": ["k8s-worker1", "k8s-worker2"]}
SEED_NODES = {"k8s-cp": "192.168.1.187", "k8s-worker1": "192.168.1.188", "k8s-worker2": "192.168.1.189"}
SEED = {"kube_pod_cidr": "10.244.0.0/16", "kube_service_cidr": "10.96.0.0/12", "homelab_node_cidr": "192.168.1.0/24"}


def test_the_seed_topology_is_valid():
    assert topology_errors(SEED_NODES, SEED_GROUPS, SEED) == []


def test_node_names_must_be_kubernetes_names():
    nodes = dict(SEED_NODES, K8S_Worker3="192.168.1.190")
    groups = dict(SEED_GROUPS, kube_node=SEED_GROUPS["kube_node"] + ["K8S_Worker3"])
    errors = topology_errors(nodes, groups, SEED)
    assert errors == ["inventory host name 'K8S_Worker3' is not a valid Kubernetes node name (kubeadm registers the "
                      "node under it). Fix: rename the host with lowercase letters, digits, '-' and '.' only."]


def test_a_host_in_both_groups_is_rejected():
    groups = dict(SEED_GROUPS, kube_node=["k8s-cp", "k8s-worker1", "k8s-worker2"])
    errors = topology_errors(SEED_NODES, groups, SEED)
    assert len(errors) == 1 and errors[0].startswith("k8s-cp is in both kube_control_plane and kube_node. Fix:")


def test_a_node_without_node_ip_is_named():
    errors = topology_errors(dict(SEED_NODES, **{"k8s-worker2": ""}), SEED_GROUPS, SEED)
    assert errors == ["hostvars['k8s-worker2'].node_ip is not set. Fix: give every k8s_cluster host node_ip, its "
                      "cluster address."]


def test_pod_cidr_containing_a_node_is_rejected():
    errors = topology_errors(SEED_NODES, SEED_GROUPS, dict(SEED, kube_pod_cidr="192.168.0.0/16"))
    assert "kube_pod_cidr=192.168.0.0/16 overlaps homelab_node_cidr=192.168.1.0/24. " \
           "Fix: choose a kube_pod_cidr that shares no address with homelab_node_cidr." in errors
    assert "kube_pod_cidr=192.168.0.0/16 contains the address 192.168.1.187 of node k8s-cp. " \
           "Fix: choose a kube_pod_cidr outside the node network." in errors


def test_checksums_complete_for_the_version_are_valid():
    sums = {"v1.31.13": {"amd64": dict.fromkeys(NAMES, SHA), "arm64": dict.fromkeys(NAMES, "B" * 64)}}
    assert checksum_errors(sums, "v1.31.13", NAMES) == []


def test_a_version_without_checksums_is_rejected():
    errors = checksum_errors({"v1.31.12": {"amd64": dict.fromkeys(NAMES, SHA)}}, "v1.31.13", NAMES)
    assert errors == ["kube_version=v1.31.13 has no checksum in kube_packages_checksums (versions with checksums: "
                      "v1.31.12), so the air-gapped binaries could not be verified. Fix: add "
                      "kube_packages_checksums['v1.31.13'] as {<arch>: {kubeadm: <sha256>, kubelet: <sha256>, "
                      "kubectl: <sha256>}}, or choose a version listed there."]
    assert "(versions with checksums: none)" in checksum_errors({}, "v1.31.13", NAMES)[0]


def test_a_missing_or_malformed_binary_checksum_is_named():
    sums = {"v1.31.13": {"amd64": {"kubeadm": SHA, "kubelet": "abc"}}}
    assert checksum_errors(sums, "v1.31.13", NAMES) == [
        "kube_packages_checksums['v1.31.13']['amd64']['kubelet']='abc' is not a sha256. Fix: set it to the 64-hex "
        "sha256 published for kubelet v1.31.13 linux/amd64.",
        "kube_packages_checksums['v1.31.13']['amd64']['kubectl']=None is not a sha256. Fix: set it to the 64-hex "
        "sha256 published for kubectl v1.31.13 linux/amd64."]


@given(st.text(alphabet=string.hexdigits, min_size=0, max_size=80))
def test_only_64_hex_characters_pass_as_sha256(value):
    errors = checksum_errors({"v1.31.13": {"amd64": dict.fromkeys(NAMES, value)}}, "v1.31.13", NAMES)
    assert (errors == []) == (len(value) == 64)


def test_token_lifetimes():
    assert token_ttl_errors("1h", "10m") == []
    assert token_ttl_errors("0", "10m") == []  # a token that never expires is always reusable
    assert token_ttl_errors("5m", "10m") == [
        "join_token_ttl='5m' is not longer than join_token_min_ttl='10m', so every run would create a new token. "
        "Fix: make join_token_ttl longer (defaults 1h and 10m)."]
    assert token_ttl_errors("an hour", "10m") == [
        "join_token_ttl='an hour' is not a duration. Fix: write it like 1h, 10m, 1h30m or 90s."]
