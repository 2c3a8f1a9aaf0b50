# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Documentation of the k8s_render action; the work happens in plugins/action/k8s_render.py."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_render
short_description: Render Kubernetes manifests and Helm values to files on the controller
version_added: "0.1.0"
description:
  - Writes the Helm values and the Kubernetes manifests a role would apply under O(build_dir), one file per
    manifest name, and returns the parsed documents so the same data can be applied with M(kubernetes.core.k8s).
  - Values of every C(Secret) are redacted in the files and in the diff; the returned documents keep them,
    so tasks that register the result of a render holding secrets must set C(no_log).
  - Files no longer produced by the component are removed, so a feature switched off leaves nothing behind.
  - Runs on the controller and never connects to the target host. Supports check mode and diff mode.
options:
  component:
    description: Folder name of the component, for example V(cilium).
    type: str
    required: true
  manifests:
    description:
      - File name (ending in V(.yaml)) to content. Content is YAML text (several documents allowed, empty ones
        dropped), a mapping, or a list of mappings. Every document needs C(apiVersion) and C(kind).
    type: dict
    default: {}
  values:
    description: Helm values (YAML text or a mapping), written to C(<build_dir>/values/<component>.yaml).
    type: raw
  root:
    description:
      - V(manifests) for what the playbook applies, V(gitops) for the repository ArgoCD watches, V(kubeadm) for
        the configuration files C(kubeadm init) reads on each control-plane node (O(component) is then the node).
    type: str
    choices: [manifests, gitops, kubeadm]
    default: manifests
  build_dir:
    description: Output folder. Defaults to the variable C(homelab_build_dir).
    type: path
  render_only:
    description: When true, print one line saying the component was rendered and not applied.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
author:
  - homelab.stack developers
"""

EXAMPLES = r"""
- name: Cilium | render values and manifests
  homelab.stack.k8s_render:
    component: cilium
    values: "{{ lookup('ansible.builtin.template', 'values.yaml.j2') }}"
    manifests:
      lb-pool.yaml: "{{ lookup('ansible.builtin.template', 'lb-pool.yaml.j2') }}"
    render_only: "{{ homelab_render_only }}"
  register: cilium_render

- name: Cilium | apply the rendered manifests
  kubernetes.core.k8s:
    kubeconfig: "{{ homelab_kubeconfig }}"
    definition: "{{ cilium_render.documents }}"
  when: not homelab_render_only
"""

RETURN = r"""
files:
  description: Every file the render owns, absolute paths.
  returned: always
  type: list
  elements: str
documents:
  description: All manifest documents, in file-name order then template order, secrets included.
  returned: always
  type: list
  elements: dict
manifests:
  description: File name to its list of documents.
  returned: always
  type: dict
values:
  description: The parsed Helm values, or null when none were given.
  returned: always
  type: dict
"""

if __name__ == "__main__":
    raise SystemExit("homelab.stack.k8s_render is an action plugin: call it from a playbook task.")
