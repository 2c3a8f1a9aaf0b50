# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Compile the service graph (netpol_graph) into network policies. Pure functions, no Ansible import.

cilium_policies: one cilium.io/v2 CiliumNetworkPolicy per workload, default deny in both directions.
k8s_network_policies: the closest networking.k8s.io/v1 NetworkPolicy per workload, for clusters without
Cilium; what Kubernetes cannot express is approximated as documented in docs/plugins.md and recorded in the
annotation homelab.stack/approximations of each policy.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import dns_ports, parse_graph

MANAGED_BY = {"app.kubernetes.io/managed-by": "homelab.stack"}
CILIUM_NS_LABEL = "k8s:io.kubernetes.pod.namespace"
K8S_NS_LABEL = "kubernetes.io/metadata.name"
# "Anywhere on the internet" for Kubernetes NetworkPolicy: every IPv4 address except private, shared
# (CGNAT), link-local and loopback ranges, so the rule never opens the pod, service or node networks.
NON_PUBLIC_IPV4 = ("10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                   "192.168.0.0/16")


# The helpers below return a new object per use: shared objects would come out as YAML anchors.
def _deny_all():
    # A rule section that exists but is empty: `ingress: [{}]` puts the endpoint in default deny for that
    # direction without allowing any peer (Cilium docs, "Ingress/Egress Default Deny"). `ingress: []` would
    # NOT do it: Cilium enables default deny only for a direction that has at least one rule.
    return [{}]


def _public_ipv4():
    return {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NON_PUBLIC_IPV4)}}


def _ordered(graph):
    """Workloads sorted by (namespace, policy name): the output does not depend on mapping order."""
    return sorted(graph.workloads.values(), key=lambda w: (w.endpoint.namespace, w.policy_name))


def _port_label(ports):
    return ", ".join(f"{port}/{proto}" for port, proto in ports) if ports else "every port"


# -- CiliumNetworkPolicy ----------------------------------------------------------------------------------
def _cilium_selector(endpoint, namespace):
    labels = dict(endpoint.labels)
    if endpoint.namespace != namespace:  # a CNP selector is confined to the policy's namespace unless told
        labels[CILIUM_NS_LABEL] = endpoint.namespace
    return {"matchLabels": labels}


def _fqdn_selector(name):
    return {"matchPattern": name} if "*" in name else {"matchName": name}


def _cilium_ports(ports, methods=(), dns=False):
    """toPorts of a rule, or None when every port is allowed."""
    if not ports:
        return None
    rule = {"ports": [{"port": str(port), "protocol": proto} for port, proto in ports]}
    if methods:
        rule["rules"] = {"http": [{"method": method} for method in methods]}
    elif dns:
        # Sends the workload's DNS queries through Cilium's DNS proxy: that is how toFQDNs learns addresses.
        rule["rules"] = {"dns": [{"matchPattern": "*"}]}
    return [rule]


def _cilium_rules(graph, workload, rule, direction):
    """One graph rule -> Cilium rules: endpoints, entities and FQDNs cannot share one Cilium rule."""
    side = "from" if direction == "ingress" else "to"
    groups = {"Endpoints": [], "Entities": [], "FQDNs": []}
    for peer in rule.peers:
        endpoint = graph.resolve(peer)
        if endpoint.is_pod:
            selector = _cilium_selector(endpoint, workload.endpoint.namespace)
            if selector not in groups["Endpoints"]:
                groups["Endpoints"].append(selector)
        elif endpoint.kind == "entity":
            if endpoint.entity not in groups["Entities"]:
                groups["Entities"].append(endpoint.entity)
        else:
            groups["FQDNs"].extend(_fqdn_selector(n) for n in endpoint.fqdns
                                   if _fqdn_selector(n) not in groups["FQDNs"])
    to_ports = _cilium_ports(rule.ports, rule.methods)
    rules = []
    for kind, peers in groups.items():
        if peers:
            item = {f"{side}{kind}": peers}
            if to_ports:
                item["toPorts"] = to_ports
            rules.append(item)
    return rules


def _cilium_dns_rule(graph, workload):
    dns = graph.endpoints[graph.dns]
    return {"toEndpoints": [_cilium_selector(dns, workload.endpoint.namespace)],
            "toPorts": _cilium_ports(dns_ports(graph), dns=True)}


def _describe(workload, has_dns):
    def rule_text(rule):
        methods = f" ({'|'.join(rule.methods)})" if rule.methods else ""
        return f"{'/'.join(rule.peers)} on {_port_label(rule.ports)}{methods}"

    def side(rules, word):
        return f"{word} " + ("; ".join(rule_text(r) for r in rules) if rules else "nothing")
    dns = "; DNS" if has_dns else ""
    return (f"homelab.stack: {workload.endpoint.name} default deny. {side(workload.ingress, 'In from')}. "
            f"{side(workload.egress, 'Out to')}{dns}.")


def _cilium_policy(graph, workload):
    has_dns = bool(graph.dns) and workload.dns
    ingress = [r for rule in workload.ingress for r in _cilium_rules(graph, workload, rule, "ingress")]
    egress = [_cilium_dns_rule(graph, workload)] if has_dns else []
    egress += [r for rule in workload.egress for r in _cilium_rules(graph, workload, rule, "egress")]
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": workload.policy_name, "namespace": workload.endpoint.namespace,
                     "labels": dict(MANAGED_BY)},
        "spec": {
            "description": _describe(workload, has_dns),
            "endpointSelector": {"matchLabels": dict(workload.endpoint.labels)},
            # Explicit although implied by the rule sections: the intent is visible in the manifest.
            "enableDefaultDeny": {"egress": True, "ingress": True},
            "ingress": ingress or _deny_all(),
            "egress": egress or _deny_all(),
        },
    }


def cilium_policies(graph_data):
    """Service graph -> list of CiliumNetworkPolicy documents, sorted by namespace and name."""
    graph = parse_graph(graph_data)
    return [_cilium_policy(graph, workload) for workload in _ordered(graph)]


# -- Kubernetes NetworkPolicy -------------------------------------------------------------------------------
class _Approximations(list):
    def note(self, path, text):
        self.append(f"{path}: {text}")


def _k8s_peer(endpoint, namespace, path, notes):
    """A NetworkPolicyPeer, or "any" (no peer restriction), or None (nothing can be expressed)."""
    if endpoint.is_pod:
        peer = {"podSelector": {"matchLabels": dict(endpoint.labels)}}
        if endpoint.namespace != namespace:
            peer["namespaceSelector"] = {"matchLabels": {K8S_NS_LABEL: endpoint.namespace}}
        return peer
    if endpoint.kind == "fqdn":
        notes.note(path, f"DNS names {', '.join(endpoint.fqdns)} widened to every public IPv4 address")
        return _public_ipv4()
    entity = endpoint.entity
    if entity == "all":
        return "any"
    if entity == "cluster":
        notes.note(path, "entity cluster narrowed to every pod (nodes not included)")
        return {"namespaceSelector": {}}
    if entity == "world":
        notes.note(path, "entity world approximated as every public IPv4 address")
        return _public_ipv4()
    if entity == "none":
        return None
    notes.note(path, f"entity {entity} has no NetworkPolicy equivalent and allows nothing here")
    return None


def _k8s_ports(ports):
    return [{"port": port, "protocol": proto} for port, proto in ports]


def _k8s_rule(graph, workload, rule, direction, notes):
    side = "from" if direction == "ingress" else "to"
    peers = []
    for index, name in enumerate(rule.peers):
        peer = _k8s_peer(graph.resolve(name), workload.endpoint.namespace, f"{rule.path}.{side}[{index}]", notes)
        if peer == "any":
            peers = None  # a rule without peers matches every source / destination
            break
        if peer is not None and peer not in peers:
            peers.append(peer)
    if peers == []:
        return None
    if rule.methods:
        notes.note(rule.path, f"HTTP methods {', '.join(rule.methods)} dropped (NetworkPolicy is L3/L4 only)")
    item = {side: peers} if peers else {}
    if rule.ports:
        item["ports"] = _k8s_ports(rule.ports)
    return item


def _k8s_policy(graph, workload):
    notes = _Approximations()
    ingress = [r for r in (_k8s_rule(graph, workload, rule, "ingress", notes) for rule in workload.ingress) if r]
    egress = []
    if graph.dns and workload.dns:
        dns = graph.endpoints[graph.dns]
        egress.append({"to": [_k8s_peer(dns, workload.endpoint.namespace, "dns", notes)],
                       "ports": _k8s_ports(dns_ports(graph))})
    egress += [r for r in (_k8s_rule(graph, workload, rule, "egress", notes) for rule in workload.egress) if r]
    # Both policy types listed: a direction with no rule denies everything (Kubernetes semantics), and an
    # empty list is left out because the API server drops it and tools would report a perpetual diff.
    spec = {"podSelector": {"matchLabels": dict(workload.endpoint.labels)}, "policyTypes": ["Ingress", "Egress"]}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    metadata = {"name": workload.policy_name, "namespace": workload.endpoint.namespace, "labels": dict(MANAGED_BY)}
    if notes:
        metadata["annotations"] = {"homelab.stack/approximations": "; ".join(notes)}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


def k8s_network_policies(graph_data):
    """Service graph -> list of networking.k8s.io/v1 NetworkPolicy documents, sorted by namespace and name."""
    graph = parse_graph(graph_data)
    return [_k8s_policy(graph, workload) for workload in _ordered(graph)]
