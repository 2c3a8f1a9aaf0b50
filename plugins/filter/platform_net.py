# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filters behind the platform roles' preflight checks; the logic lives in module_utils/platform_net.py."""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils.platform_net import (
    lb_ip_errors, metallb_pool_errors)

DOCUMENTATION = r"""
name: metallb_pool_errors
short_description: Check a MetalLB address pool against the node subnet and node addresses
version_added: "0.1.0"
description:
  - Returns one message per problem (malformed entry, outside the node subnet, containing a node address,
    overlapping entries), each naming the variable, its value and the fix; an empty list means valid.
  - The same file provides C(lb_ip_errors), which checks that a pinned load-balancer address lies in the pool.
positional: node_cidr, nodes
options:
  _input:
    description: The pool (C(metallb_address_pool)), a list of C(first-last) ranges or CIDRs.
    type: list
    elements: str
    required: true
  node_cidr:
    description: The node subnet (C(homelab_node_cidr)); empty skips the subnet check.
    type: str
    required: true
  nodes:
    description: Host name to node IP of every cluster node.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: MetalLB | pool
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' | ') }}"
  vars:
    problems: "{{ ['192.168.1.200-192.168.1.210'] | homelab.stack.metallb_pool_errors('192.168.1.0/24', {}) }}"
"""

RETURN = r"""
_value:
  description: Problems found, one sentence each.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"metallb_pool_errors": metallb_pool_errors, "lb_ip_errors": lb_ip_errors}
