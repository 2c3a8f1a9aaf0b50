# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Filter homelab.stack.canary_steps; the logic lives in module_utils/canary.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.canary import CanaryError
from ansible_collections.homelab.stack.plugins.module_utils.canary import canary_steps as build_steps

DOCUMENTATION = r"""
name: canary_steps
short_description: Argo Rollouts canary steps from weights, pauses and optional header and mirror routes
version_added: "0.1.0"
description:
  - Returns the list for a Rollout's C(spec.strategy.canary.steps) - C(setHeaderRoute) and C(setMirrorRoute)
    first when asked for, then C(setWeight) and C(pause) for each weight, then both routes removed again
    (a route step without C(match) deletes the route) before the promotion to 100 %.
  - Use P(homelab.stack.canary_managed_routes#filter) on the same spec for C(trafficRouting.managedRoutes).
  - A bad spec fails with a message naming the field, the value and the fix - weights not increasing or
    outside 1-99, empty weights, bad durations, unknown keys.
options:
  _input:
    description:
      - C(weights) (required) - list of percentages, each an integer or C({weight, pause}) to override its pause.
      - C(pause) - an Argo duration (C(30s), C(1m), C(2h), C(1h30m) or an integer of seconds), or C(manual)
        to wait for a manual promotion; required unless every weight sets its own.
      - C(header_route) - C({name, header, value, match?}) with C(match) one of C(exact) (default), C(prefix),
        C(regex); requests with the header go to the canary.
      - C(mirror_route) - C({name, percentage?, path_prefix?, methods?}); C(percentage) (default 100) of the
        matching requests (default every path) is mirrored to the canary.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Blog | canary steps of the web rollout
  ansible.builtin.set_fact:
    web_canary_steps: "{{ spec | homelab.stack.canary_steps }}"
    web_managed_routes: "{{ spec | homelab.stack.canary_managed_routes }}"
  vars:
    spec:
      weights: [10, 50, {weight: 90, pause: 1m}]
      pause: 30s
      header_route: {name: canary-header, header: x-canary-test, value: "true"}
      mirror_route: {name: mirror-stable, percentage: 100}
"""

RETURN = r"""
_value:
  description: Argo Rollouts canary steps.
  type: list
  elements: dict
"""


def canary_steps(spec):
    try:
        return build_steps(spec)
    except CanaryError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"canary_steps": canary_steps}
