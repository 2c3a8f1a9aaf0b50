# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filter homelab.stack.canary_managed_routes; the logic lives in module_utils/canary.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.canary import CanaryError
from ansible_collections.homelab.stack.plugins.module_utils.canary import canary_managed_routes as build_routes

DOCUMENTATION = r"""
name: canary_managed_routes
short_description: Argo Rollouts trafficRouting.managedRoutes for a canary spec
version_added: "0.1.0"
description:
  - Returns the routes P(homelab.stack.canary_steps#filter) sets on the same spec, in precedence order - the
    header route above the mirror route, so requests carrying the header are not caught by the mirror route
    first. An empty list when the spec has neither route.
  - Validates the whole spec exactly like P(homelab.stack.canary_steps#filter).
options:
  _input:
    description: The canary spec (see P(homelab.stack.canary_steps#filter)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Blog | managed routes of the web rollout
  ansible.builtin.set_fact:
    web_managed_routes: "{{ {'weights': [10, 50, 90], 'pause': '30s',
                             'header_route': {'name': 'canary-header', 'header': 'x-canary-test', 'value': 'true'}}
                            | homelab.stack.canary_managed_routes }}"
"""

RETURN = r"""
_value:
  description: List of C({name}) mappings for trafficRouting.managedRoutes.
  type: list
  elements: dict
"""


def canary_managed_routes(spec):
    try:
        return build_routes(spec)
    except CanaryError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"canary_managed_routes": canary_managed_routes}
