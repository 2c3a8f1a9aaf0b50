# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filter homelab.stack.cilium_policies; the logic lives in module_utils/netpol_compile.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import cilium_policies as compile_graph
from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import GraphError

DOCUMENTATION = r"""
name: cilium_policies
short_description: Compile a service graph into one default-deny CiliumNetworkPolicy per workload
version_added: "0.1.0"
description:
  - Returns one C(cilium.io/v2) C(CiliumNetworkPolicy) per workload, sorted by namespace and name, that denies
    everything in both directions except what the graph allows, plus DNS to the graph's C(dns) external
    through Cilium's DNS proxy (C(rules.dns)), which C(toFQDNs) rules need.
  - A direction with nothing allowed is written C([{}]), an empty rule that keeps default deny on.
  - Peers in another namespace are selected with C(k8s:io.kubernetes.pod.namespace); DNS-name externals become
    C(toFQDNs); entities become C(toEntities)/C(fromEntities); C(methods) become L7 C(rules.http).
  - The same input always gives the same output. An invalid graph fails with every problem listed, each
    naming its path in the graph and the fix. The format is described in the collection's docs/plugins.md.
options:
  _input:
    description:
      - The service graph, a mapping with C(namespace) (default namespace), C(dns) (optional external name),
        C(externals) (name to C({namespace, labels}), C({fqdns}) or C({entity}), optional C(ports)) and
        C(workloads) (name to C({labels, namespace?, name?, dns?, ingress?, egress?})).
      - A rule is C({from|to, ports?, methods?}); C(from)/C(to) list workload, external or entity names
        (C(all), C(world), C(cluster), ...); a port is an integer (TCP) or C("53/UDP"); C(methods) lists HTTP methods.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Blog | render the network policies
  homelab.stack.k8s_render:
    component: blog-system
    root: gitops
    manifests:
      network-policies.yaml: "{{ blog_app_network_graph | homelab.stack.cilium_policies }}"
"""

RETURN = r"""
_value:
  description: CiliumNetworkPolicy documents (mappings), one per workload.
  type: list
  elements: dict
"""


def cilium_policies(graph):
    try:
        return compile_graph(graph)
    except GraphError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"cilium_policies": cilium_policies}
