"""module_utils/netpol_compile.py and the cilium_policies / k8s_network_policies filters."""

from __future__ import annotations

import copy

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.cilium_policies import FilterModule as CiliumFilters
from ansible_collections.homelab.stack.plugins.filter.k8s_network_policies import FilterModule as K8sFilters
from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import (
    NON_PUBLIC_IPV4, cilium_policies, k8s_network_policies)
pytest_plugins = ["plugin_fixtures"]  # the seed_graph and validator fixtures

SEED_POLICIES = ["mysql-backup-isolation", "mysql-exporter-isolation", "mysql-isolation", "was-isolation",
                 "web-isolation"]
NS = "k8s:io.kubernetes.pod.namespace"


def by_name(documents):
    return {doc["metadata"]["name"]: doc for doc in documents}


def test_seed_graph_gives_the_five_seed_policies(seed_graph):
    policies = cilium_policies(seed_graph)
    assert [p["metadata"]["name"] for p in policies] == SEED_POLICIES
    assert {(p["apiVersion"], p["kind"], p["metadata"]["namespace"]) for p in policies} == {
        ("cilium.io/v2", "CiliumNetworkPolicy", "blog-system")}


def test_every_compiled_policy_is_valid_against_the_schemas(seed_graph, validator):
    for document in cilium_policies(seed_graph) + k8s_network_policies(seed_graph):
        assert validator.validate_document(document) == [], document["metadata"]["name"]


def test_schema_check_would_catch_a_broken_policy(seed_graph, validator):
    # The validation above proves something: a wrong field in the same document is reported.
    broken = cilium_policies(seed_graph)[0]
    broken["spec"]["egress"][0]["toPorts"][0]["ports"][0]["protocol"] = "ICMP"
    assert validator.validate_document(broken)


def test_every_policy_is_default_deny_in_both_directions(seed_graph):
    for policy in cilium_policies(seed_graph):
        spec = policy["spec"]
        assert spec["enableDefaultDeny"] == {"ingress": True, "egress": True}
        assert spec["ingress"] and spec["egress"]  # a non-empty section is what turns default deny on
    policies = by_name(cilium_policies(seed_graph))
    assert policies["mysql-backup-isolation"]["spec"]["ingress"] == [{}]  # no ingress declared: deny all


def test_dns_rule_first_with_dns_proxy(seed_graph):
    for policy in cilium_policies(seed_graph):
        dns = policy["spec"]["egress"][0]
        assert dns == {"toEndpoints": [{"matchLabels": {"k8s-app": "kube-dns", NS: "kube-system"}}],
                       "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
                                    "rules": {"dns": [{"matchPattern": "*"}]}}]}
    mysql = by_name(cilium_policies(seed_graph))["mysql-isolation"]
    assert len(mysql["spec"]["egress"]) == 1  # DNS only, as in the seed


def test_was_policy_matches_the_seed(seed_graph):
    spec = by_name(cilium_policies(seed_graph))["was-isolation"]["spec"]
    assert spec["endpointSelector"] == {"matchLabels": {"app": "was"}}
    assert spec["ingress"] == [{"fromEndpoints": [{"matchLabels": {"app": "web"}}], "toPorts": [{
        "ports": [{"port": "8080", "protocol": "TCP"}],
        "rules": {"http": [{"method": m} for m in ("GET", "POST", "PUT", "DELETE")]}}]}]
    egress = spec["egress"][1:]
    assert egress[0] == {"toEndpoints": [{"matchLabels": {"app": "mysql"}}],
                         "toPorts": [{"ports": [{"port": "3306", "protocol": "TCP"}]}]}
    assert egress[1]["toEndpoints"] == [{"matchLabels": {"app": "istiod", NS: "istio-system"}}]
    assert egress[2]["toEndpoints"] == [{"matchLabels": {"app.kubernetes.io/name": "tempo", NS: "monitoring"}}]
    # toFQDNs may not share a rule with other to* selectors: it gets a rule of its own.
    assert egress[3] == {"toFQDNs": [{"matchName": "github.com"}, {"matchPattern": "*.github.com"}],
                         "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}


def test_web_accepts_everyone_on_80_and_exporter_only_prometheus(seed_graph):
    policies = by_name(cilium_policies(seed_graph))
    assert policies["web-isolation"]["spec"]["ingress"] == [
        {"fromEntities": ["all"], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}]
    assert policies["mysql-exporter-isolation"]["spec"]["ingress"][0]["fromEndpoints"] == [
        {"matchLabels": {"app.kubernetes.io/name": "prometheus", NS: "monitoring"}}]
    assert policies["mysql-isolation"]["spec"]["ingress"][0]["fromEndpoints"] == [
        {"matchLabels": {"app": name}} for name in ("was", "mysql-backup", "mysql-exporter")]


def test_mixed_peers_split_into_one_rule_per_selector_kind(seed_graph):
    seed_graph["workloads"]["was"]["egress"] = [{"to": ["mysql", "world", "github", "s3"], "ports": [443]}]
    egress = by_name(cilium_policies(seed_graph))["was-isolation"]["spec"]["egress"][1:]
    assert [sorted(rule) for rule in egress] == [["toEndpoints", "toPorts"], ["toEntities", "toPorts"],
                                                 ["toFQDNs", "toPorts"]]
    assert egress[2]["toFQDNs"] == [{"matchName": "github.com"}, {"matchPattern": "*.github.com"},
                                    {"matchPattern": "*.amazonaws.com"}]


def test_options_dns_false_name_namespace_and_all_ports(seed_graph):
    seed_graph["workloads"]["batch"] = {"labels": {"app": "batch"}, "namespace": "jobs", "name": "batch-policy",
                                        "dns": False, "egress": [{"to": ["mysql"]}]}
    policy = by_name(cilium_policies(seed_graph))["batch-policy"]
    assert policy["metadata"]["namespace"] == "jobs"
    assert policy["spec"]["ingress"] == [{}]
    # no DNS rule; no ports = every port (no toPorts); mysql is in another namespace now
    assert policy["spec"]["egress"] == [{"toEndpoints": [{"matchLabels": {"app": "mysql", NS: "blog-system"}}]}]


def test_compile_is_byte_for_byte_deterministic_and_order_independent(seed_graph):
    first = yaml.safe_dump_all(cilium_policies(seed_graph), sort_keys=False)
    assert first == yaml.safe_dump_all(cilium_policies(copy.deepcopy(seed_graph)), sort_keys=False)
    shuffled = dict(seed_graph, workloads=dict(reversed(seed_graph["workloads"].items())),
                    externals=dict(reversed(seed_graph["externals"].items())))
    assert yaml.safe_dump_all(cilium_policies(shuffled), sort_keys=False) == first
    assert "&id" not in first  # no shared objects turned into YAML anchors


def test_compile_does_not_change_its_input(seed_graph):
    before = copy.deepcopy(seed_graph)
    cilium_policies(seed_graph)
    k8s_network_policies(seed_graph)
    assert seed_graph == before


# -- Kubernetes NetworkPolicy ---------------------------------------------------------------------------------
def test_network_policies_deny_both_directions_and_keep_ports(seed_graph):
    policies = by_name(k8s_network_policies(seed_graph))
    assert list(policies) == SEED_POLICIES
    for policy in policies.values():
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in policies["mysql-backup-isolation"]["spec"]  # no rule: every ingress denied
    exporter = policies["mysql-exporter-isolation"]["spec"]
    assert exporter["ingress"] == [{"from": [{
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"port": 9104, "protocol": "TCP"}]}]


def test_network_policies_record_their_approximations(seed_graph):
    policies = by_name(k8s_network_policies(seed_graph))
    was = policies["was-isolation"]
    notes = was["metadata"]["annotations"]["homelab.stack/approximations"]
    assert "workloads.was.ingress[0]: HTTP methods GET, POST, PUT, DELETE dropped" in notes
    assert "github.com, *.github.com widened to every public IPv4 address" in notes
    fqdn_rule = was["spec"]["egress"][-1]
    assert fqdn_rule == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NON_PUBLIC_IPV4)}}],
                         "ports": [{"port": 443, "protocol": "TCP"}]}
    assert "192.168.0.0/16" in NON_PUBLIC_IPV4 and "10.0.0.0/8" in NON_PUBLIC_IPV4
    web = policies["web-isolation"]
    assert web["spec"]["ingress"] == [{"ports": [{"port": 80, "protocol": "TCP"}]}]  # from all: no peer
    assert "annotations" not in policies["mysql-isolation"]["metadata"]


def test_network_policy_entities_without_equivalent_allow_nothing(seed_graph):
    seed_graph["workloads"]["web"]["egress"].append({"to": ["host"], "ports": [10250]})
    seed_graph["workloads"]["web"]["egress"].append({"to": ["cluster"], "ports": [9000]})
    web = by_name(k8s_network_policies(seed_graph))["web-isolation"]
    assert {"port": 10250, "protocol": "TCP"} not in [p for r in web["spec"]["egress"] for p in r.get("ports", [])]
    assert {"to": [{"namespaceSelector": {}}], "ports": [{"port": 9000, "protocol": "TCP"}]} in web["spec"]["egress"]
    assert "entity host has no NetworkPolicy equivalent" in web["metadata"]["annotations"][
        "homelab.stack/approximations"]


# -- filters --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("filters, name", [(CiliumFilters, "cilium_policies"), (K8sFilters, "k8s_network_policies")])
def test_filters_wrap_the_compiler_and_report_graph_errors(seed_graph, filters, name):
    function = filters().filters()[name]
    assert len(function(seed_graph)) == 5
    seed_graph["workloads"]["web"]["egress"][0]["to"] = ["nowhere"]
    with pytest.raises(AnsibleFilterError, match=r"workloads.web.egress\[0\].to\[0\]='nowhere' names no workload"):
        function(seed_graph)
