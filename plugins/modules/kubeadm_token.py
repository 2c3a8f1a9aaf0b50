# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Thin wrapper: the logic lives in plugins/module_utils/kubeadm_token.py."""

from __future__ import annotations

DOCUMENTATION = r"""
module: kubeadm_token
short_description: Return a valid kubeadm bootstrap token and join command, creating a token only when needed
version_added: "0.1.0"
description:
  - Runs on a control-plane node. Lists the bootstrap tokens (C(kubeadm token list -o json)) and reuses one
    that can join nodes (usages C(authentication) and C(signing), group
    C(system:bootstrappers:kubeadm:default-node-token)) and stays valid for at least O(min_ttl), preferring
    tokens with the same O(description).
  - Only when none qualifies, creates one with C(kubeadm token create --ttl <ttl> --description <description>
    --print-join-command); the task is changed only then.
  - For a reused token the join command is built from O(kubeadm_path), O(api_endpoint) (default the server of
    O(kubeconfig)) and the hash C(sha256:<hex>) of the DER SubjectPublicKeyInfo of O(ca_cert_path), computed
    in Python without C(openssl).
  - With O(control_plane=true), also uploads the control-plane certificates (C(kubeadm init phase upload-certs
    --upload-certs)) and returns the certificate key and the control-plane join command. Every upload
    rewrites the C(kubeadm-certs) Secret, so such a run always reports a change.
  - The returned token and certificate key are secrets. Set C(no_log) on the task.
options:
  kubeadm_path:
    description: The kubeadm binary; also the program of the returned join commands.
    type: str
    default: /usr/bin/kubeadm
  kubeconfig:
    description: Admin kubeconfig passed to every kubeadm call with C(--kubeconfig).
    type: path
    default: /etc/kubernetes/admin.conf
  ttl:
    description:
      - Lifetime of a new token, a duration such as V(1h), V(90m) or V(1h30m); V(0) never expires.
      - Must be longer than O(min_ttl), or every run would create a new token.
    type: str
    default: 1h
  min_ttl:
    description: A token with less time left than this (V(10m), V(1h), ...) is not reused.
    type: str
    default: 10m
  description:
    description: Description of created tokens; tokens with this description are preferred for reuse.
    type: str
    default: homelab.stack join
  api_endpoint:
    description:
      - C(host:port) of the API server in the join command, such as a kube-vip address.
      - Default the server of O(kubeconfig) for a reused token, kubeadm's choice for a created one.
    type: str
  ca_cert_path:
    description: Cluster CA certificate (PEM) whose public key hash pins the API server in the join command.
    type: path
    default: /etc/kubernetes/pki/ca.crt
  control_plane:
    description: Also upload the control-plane certificates and return the control-plane join command.
    type: bool
    default: false
  certificate_key:
    description:
      - Certificate key (64 hex characters) for O(control_plane=true); default a new key chosen by kubeadm.
    type: str
attributes:
  check_mode:
    support: full
    details: Lists tokens; reports that a token would be created (or certificates uploaded) and creates nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The exact kubeadm invocations are listed in the collection's docs/plugins.md (used by fake kubeadm
    binaries in tests).
author:
  - homelab.stack developers
"""

EXAMPLES = r"""
- name: Join | bootstrap token and join command
  homelab.stack.kubeadm_token:
    api_endpoint: "{{ kube_api_endpoint }}"
  register: join_token
  no_log: true
  delegate_to: "{{ groups['kube_control_plane'][0] }}"
  run_once: true

- name: Join | join the worker
  ansible.builtin.command: "{{ join_token.join_command }}"
  args:
    creates: /etc/kubernetes/kubelet.conf
  no_log: true

- name: Join | control-plane join command (uploads the certificates)
  homelab.stack.kubeadm_token:
    control_plane: true
  register: cp_join
  no_log: true
"""

RETURN = r"""
token:
  description:
    - The bootstrap token C(<id>.<secret>). SECRET, treat as no_log; empty in check mode when a token
      would be created.
  returned: success
  type: str
  sample: abcdef.0123456789abcdef
join_command:
  description: The C(kubeadm join) command for a worker. Contains the token (SECRET).
  returned: success
  type: str
  sample: /usr/bin/kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:...
created:
  description: Whether a new token was created by this run (false for a reused token and in check mode).
  returned: success
  type: bool
expires:
  description: Expiry of the token, RFC 3339 UTC; null when it never expires or in check mode.
  returned: success
  type: str
  sample: "2026-01-27T12:00:00Z"
api_endpoint:
  description: The C(host:port) the join command points at.
  returned: when a token is available
  type: str
ca_cert_hash:
  description: C(sha256:<hex>) of the cluster CA public key.
  returned: when a token is available
  type: str
certificate_key:
  description: Key of the uploaded control-plane certificates (SECRET, valid two hours).
  returned: when control_plane is true
  type: str
control_plane_join_command:
  description: The join command for a new control-plane node (SECRET).
  returned: when control_plane is true
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.stack.plugins.module_utils.kubeadm_token import (
    TokenError, ensure_join, utc_now)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def main():
    module = AnsibleModule(
        argument_spec={
            "kubeadm_path": {"type": "str", "default": "/usr/bin/kubeadm"},
            "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
            "ttl": {"type": "str", "default": "1h"},
            "min_ttl": {"type": "str", "default": "10m"},
            "description": {"type": "str", "default": "homelab.stack join"},
            "api_endpoint": {"type": "str"},
            "ca_cert_path": {"type": "path", "default": "/etc/kubernetes/pki/ca.crt"},
            "control_plane": {"type": "bool", "default": False},
            "certificate_key": {"type": "str", "no_log": True},
        },
        supports_check_mode=True,
    )

    def run(argv):
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    try:
        result = ensure_join(module.params, run, _read, utc_now(), module.check_mode)
    except (TokenError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
