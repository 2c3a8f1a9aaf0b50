# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filters behind the preflight role; the logic lives in module_utils/preflight.py."""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils.preflight import (
    argument_options, checksum_errors, preflight_hosts, token_ttl_errors, topology_errors, version_errors)

DOCUMENTATION = r"""
name: topology_errors
short_description: Inventory-wide topology checks (groups, node addresses, network overlaps)
version_added: "0.1.0"
description:
  - Returns one message per problem, each naming the variable, its value and the fix; an empty list means valid.
positional: groups, settings
options:
  _input:
    description: Host name to node IP of every cluster node.
    type: dict
    required: true
  groups:
    description: The inventory groups (C(groups)).
    type: dict
    required: true
  settings:
    description: kube_pod_cidr, kube_service_cidr, homelab_node_cidr, kube_vip_enabled, kube_vip_address.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Preflight | topology
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'k8s-cp': '10.0.0.1'} | homelab.stack.topology_errors(groups, {'kube_pod_cidr': '10.244.0.0/16'}) }}"
"""

RETURN = r"""
_value:
  description: Problems found, one sentence each.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"topology_errors": topology_errors, "checksum_errors": checksum_errors,
                "token_ttl_errors": token_ttl_errors, "version_errors": version_errors,
                "preflight_hosts": preflight_hosts, "argument_options": argument_options}
