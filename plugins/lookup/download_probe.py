# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Lookup behind the run-mode decision; the logic lives in module_utils/download_probe.py."""

from __future__ import annotations

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.homelab.stack.plugins.module_utils.download_probe import probe

DOCUMENTATION = r"""
name: download_probe
short_description: Whether the controller can download from a URL (name resolved first, then one HEAD request)
version_added: "0.1.0"
description:
  - Resolves the URL's host name on the controller; only when it resolves, sends one HEAD request.
  - Never fails on a network problem; the result says what happened. Fails on a malformed URL or timeout.
options:
  _terms:
    description: The URLs to probe.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds the HEAD request waits.
    type: float
    default: 5
  variable:
    description: Name of the variable the URL comes from, named in the error a malformed URL raises.
    type: str
    default: url
"""

EXAMPLES = r"""
- name: Homelab | probe whether downloads are possible
  ansible.builtin.set_fact:
    homelab_online_probe: >-
      {{ query('homelab.stack.download_probe', homelab_online_probe_url, timeout=5,
               variable='homelab_online_probe_url') | first }}
"""

RETURN = r"""
_raw:
  description: One result per URL.
  type: list
  elements: dict
  contains:
    resolved:
      description: Whether the host name resolved (no request is sent when it did not).
      type: bool
    status:
      description: HTTP status of the HEAD request, or null when there was no answer.
      type: int
    error:
      description: Why there is no status (does not resolve, did not answer), or an empty string.
      type: str
"""


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            return [probe(term, self.get_option("timeout"), variable=self.get_option("variable")) for term in terms]
        except ValueError as exc:
            raise AnsibleLookupError(str(exc)) from exc
