# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filter homelab.stack.policy_allows; the logic lives in module_utils/netpol_check.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import CheckError, check_flow
from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import GraphError

DOCUMENTATION = r"""
name: policy_allows
short_description: Whether compiled CiliumNetworkPolicies let one endpoint reach another
version_added: "0.1.0"
description:
  - Evaluates CiliumNetworkPolicy (and CiliumClusterwideNetworkPolicy) documents the way Cilium enforces them
    in its default mode. A flow is allowed when the source's egress AND the destination's ingress allow it;
    an endpoint no policy selects is default-allow in that direction.
  - Endpoints are the workloads and externals of the service graph (the catalog); an entity name (C(world),
    C(host), ...) or a DNS name (C(api.github.com)) may be queried too.
  - Returns a boolean, or with O(explain=true) a mapping C({allowed, reasons}) saying which rule decided.
positional: catalog, source, destination, port
options:
  _input:
    description: The policy documents (other kinds are ignored).
    type: list
    elements: dict
    required: true
  catalog:
    description: The service graph used as endpoint catalog (see P(homelab.stack.cilium_policies#filter)).
    type: dict
    required: true
  source:
    description: Name of the endpoint opening the connection.
    type: str
    required: true
  destination:
    description: Name of the endpoint receiving it.
    type: str
    required: true
  port:
    description: Destination port.
    type: int
    required: true
  protocol:
    description: Transport protocol.
    type: str
    choices: [TCP, UDP, SCTP]
    default: TCP
  method:
    description: HTTP method, checked against L7 C(rules.http); omit for an L4 question.
    type: str
  explain:
    description: Return C({allowed, reasons}) instead of a boolean.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Blog | web may call was with GET but not PATCH
  ansible.builtin.assert:
    that:
      - policies | homelab.stack.policy_allows(graph, 'web', 'was', 8080, method='GET')
      - not policies | homelab.stack.policy_allows(graph, 'web', 'was', 8080, method='PATCH')
  vars:
    graph: "{{ blog_app_network_graph }}"
    policies: "{{ graph | homelab.stack.cilium_policies }}"
"""

RETURN = r"""
_value:
  description: True when the flow is allowed (or a mapping with allowed and reasons when explain is true).
  type: raw
"""


def policy_allows(policies, catalog, source, destination, port, protocol="TCP", method=None, explain=False):
    try:
        decision = check_flow(policies, catalog, source, destination, port, protocol, method)
    except (CheckError, GraphError) as exc:
        raise AnsibleFilterError(str(exc)) from exc
    return decision.as_dict() if explain else decision.allowed


class FilterModule:
    def filters(self):
        return {"policy_allows": policy_allows}
