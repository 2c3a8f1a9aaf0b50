# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Thin wrapper: the logic lives in plugins/module_utils/host_state.py."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Read in one pass the node state the host-layer roles manage, changing nothing
version_added: "0.1.0"
description:
  - Returns the state of files, package, services, sysctls, kernel modules and C(blockinfile) blocks of a
    node in a single module run, so a role can compare it with the desired state on the controller and run
    its usual modules (M(ansible.builtin.apt), M(ansible.builtin.template), M(ansible.posix.sysctl), ...)
    only when something differs. On a converged node a role then costs one module run instead of one per
    setting.
  - Each reader decides like the module it stands in for (C(blockinfile)'s marker search,
    C(community.general.modprobe)'s loaded test, C(dpkg)'s installed status). Whatever it cannot read is
    reported as missing, which callers treat as a difference.
  - Read-only; runs unchanged in check mode.
options:
  files:
    description:
      - Paths to describe (links are not followed), each with the state it should be in; the paths that
        differ are listed in RV(files_differ). A path differs when its type is not O(files[].state), or a
        given O(files[].checksum), O(files[].mode), O(files[].owner) or O(files[].group) does not match.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The path.
        type: path
        required: true
      state:
        description: What should be there.
        type: str
        choices: [file, directory, absent]
        default: file
      checksum:
        description: sha1 of the wanted content of a file (C(content | hash('sha1'))).
        type: str
      mode:
        description: Wanted permissions, octal (V(0644)).
        type: raw
      owner:
        description: Wanted owner name.
        type: str
      group:
        description: Wanted group name.
        type: str
  contents:
    description: Paths whose text to return (small files such as C(/etc/hosts)); null when unreadable.
    type: list
    elements: path
    default: []
  directories:
    description: Directories whose direct subdirectories to list; null when not a directory.
    type: list
    elements: path
    default: []
  blocks:
    description: C(blockinfile) blocks to find; for each, the lines between its markers, or null when absent.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      marker_begin:
        description: The whole begin marker line, such as C(# BEGIN managed block).
        type: str
        required: true
      marker_end:
        description: The whole end marker line.
        type: str
        required: true
  packages:
    description: Debian packages (an C(=version) suffix is ignored) whose installed version to return.
    type: list
    elements: str
    default: []
  services:
    description: systemd units whose enabled and active state to return.
    type: list
    elements: str
    default: []
  sysctls:
    description: Kernel parameters (dotted names) whose live value to return, whitespace collapsed.
    type: list
    elements: str
    default: []
  kernel_modules:
    description: Kernel modules whose loaded state to return (null when the kernel has no module support).
    type: list
    elements: str
    default: []
  commands:
    description: Programs to find on the PATH.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: Reads only, in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - homelab.stack developers
"""

EXAMPLES = r"""
- name: Containerd | current state in one pass
  homelab.stack.host_state:
    files:
      - path: /etc/containerd/config.toml
        checksum: "{{ lookup('ansible.builtin.template', 'config.toml.j2') | hash('sha1') }}"
        mode: "0644"
        owner: root
        group: root
    packages: [containerd]
    services: [containerd]
  register: containerd_state

- name: Containerd | converge when something differs
  ansible.builtin.include_tasks: converge.yml
  when: >-
    containerd_state.files_differ or containerd_state.packages.containerd is none
    or not containerd_state.services.containerd.active
"""

RETURN = r"""
hostname:
  description: The node's current (kernel) host name.
  returned: always
  type: str
files:
  description: Per path C(exists) and, when it exists, C(type) (file, directory, link, other), C(mode)
    (such as V(0644)), C(owner), C(group) and for a file C(checksum) (sha1).
  returned: always
  type: dict
files_differ:
  description: The paths of O(files) not in their wanted state, in the order given.
  returned: always
  type: list
  elements: str
contents:
  description: Per path its text, or null.
  returned: always
  type: dict
directories:
  description: Per path the sorted names of its subdirectories, or null.
  returned: always
  type: dict
blocks:
  description: Per entry of O(blocks), in order, the lines between the markers, or null.
  returned: always
  type: list
packages:
  description: Per package name its installed version, or null when not installed.
  returned: always
  type: dict
services:
  description: Per unit C(enabled) (unit file state V(enabled)) and C(active) (active state V(active)).
  returned: always
  type: dict
sysctls:
  description: Per parameter its live value, or null when it does not exist.
  returned: always
  type: dict
kernel_modules:
  description: Per module whether it is loaded or built in; null when unknown.
  returned: always
  type: dict
commands:
  description: Per program its path, or null.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.stack.plugins.module_utils.host_state import read_state


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "state": {"type": "str", "choices": ["file", "directory", "absent"], "default": "file"},
                "checksum": {"type": "str"},
                "mode": {"type": "raw"},
                "owner": {"type": "str"},
                "group": {"type": "str"},
            }},
            "contents": {"type": "list", "elements": "path", "default": []},
            "directories": {"type": "list", "elements": "path", "default": []},
            "blocks": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "marker_begin": {"type": "str", "required": True},
                "marker_end": {"type": "str", "required": True},
            }},
            "packages": {"type": "list", "elements": "str", "default": []},
            "services": {"type": "list", "elements": "str", "default": []},
            "sysctls": {"type": "list", "elements": "str", "default": []},
            "kernel_modules": {"type": "list", "elements": "str", "default": []},
            "commands": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )

    def run(argv):
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    try:
        state = read_state(module.params, run)
    except OSError as exc:
        module.fail_json(msg=f"cannot read the node state: {exc}")
    module.exit_json(changed=False, **state)


if __name__ == "__main__":
    main()
