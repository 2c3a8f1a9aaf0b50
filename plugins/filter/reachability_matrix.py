# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filter homelab.stack.reachability_matrix; the logic lives in module_utils/netpol_check.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import CheckError, PolicyChecker
from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import GraphError

DOCUMENTATION = r"""
name: reachability_matrix
short_description: Who may talk to whom, on which ports, under compiled CiliumNetworkPolicies
version_added: "0.1.0"
description:
  - Evaluates the policies for every (source, destination) pair of the catalog with the semantics of
    P(homelab.stack.policy_allows#filter) and returns the allowed pairs only; a pair that is absent is denied.
  - Each allowed pair lists what is open, such as C(8080/TCP HTTP DELETE|GET|POST|PUT), C(53/UDP DNS *) or
    C(any port) (neither side restricted).
positional: catalog
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
"""

EXAMPLES = r"""
- name: Blog | nothing reaches mysql but was, the backup job and the exporter
  ansible.builtin.assert:
    that: >-
      matrix | dict2items | selectattr('value.mysql', 'defined') | map(attribute='key') | sort
      == ['mysql-backup', 'mysql-exporter', 'was']
  vars:
    matrix: "{{ blog_app_network_graph | homelab.stack.cilium_policies
                | homelab.stack.reachability_matrix(blog_app_network_graph) }}"
"""

RETURN = r"""
_value:
  description: Source name to destination name to the list of what is open; allowed pairs only.
  type: dict
"""


def reachability_matrix(policies, catalog):
    try:
        return PolicyChecker(policies, catalog).matrix_by_name()
    except (CheckError, GraphError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"reachability_matrix": reachability_matrix}
