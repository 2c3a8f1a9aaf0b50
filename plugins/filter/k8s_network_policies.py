# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filter homelab.stack.k8s_network_policies; the logic lives in module_utils/netpol_compile.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import k8s_network_policies as compile_graph
from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import GraphError

DOCUMENTATION = r"""
name: k8s_network_policies
short_description: Compile a service graph into Kubernetes NetworkPolicies (clusters without Cilium)
version_added: "0.1.0"
description:
  - Returns one C(networking.k8s.io/v1) C(NetworkPolicy) per workload from the same service graph as
    P(homelab.stack.cilium_policies#filter), with C(policyTypes) C([Ingress, Egress]) so each workload is
    default deny in both directions.
  - NetworkPolicy cannot express everything; each policy lists what was approximated in the annotation
    C(homelab.stack/approximations).
  - HTTP C(methods) are dropped (port-only). DNS-name externals and the C(world) entity become every public
    IPv4 address (C(0.0.0.0/0) except private, CGNAT, link-local and loopback ranges) on the rule's ports.
    C(all) means any peer, C(cluster) every pod of every namespace, and other entities (C(host),
    C(kube-apiserver), ...) allow nothing.
options:
  _input:
    description: The service graph (see P(homelab.stack.cilium_policies#filter) and docs/plugins.md).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Blog | network policies for a cluster without Cilium
  ansible.builtin.set_fact:
    blog_policies: "{{ blog_app_network_graph | homelab.stack.k8s_network_policies }}"
"""

RETURN = r"""
_value:
  description: NetworkPolicy documents (mappings), one per workload, sorted by namespace and name.
  type: list
  elements: dict
"""


def k8s_network_policies(graph):
    try:
        return compile_graph(graph)
    except GraphError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"k8s_network_policies": k8s_network_policies}
