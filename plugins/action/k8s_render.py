# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Action behind homelab.stack.k8s_render: runs on the controller, never on a node."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.homelab.stack.plugins.module_utils.manifests import (
    RenderError, plan, sync)

display = Display()

ROOTS = ("manifests", "gitops", "kubeadm")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("component", "manifests", "values", "root", "build_dir", "render_only"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        component = args.get("component")
        root = args.get("root", "manifests")
        if root not in ROOTS:
            raise AnsibleActionFail(f"root={root!r}: use one of {', '.join(ROOTS)}")
        build_dir = args.get("build_dir") or self._templar.template((task_vars or {}).get("homelab_build_dir"))
        if not build_dir:
            raise AnsibleActionFail("build_dir is not set: pass build_dir or define homelab_build_dir")
        build_dir = os.path.abspath(os.path.expanduser(str(build_dir)))
        try:
            files, documents, values = plan(build_dir, root, component, args.get("manifests") or {}, args.get("values"))
            # A component that stops passing values must not leave its old values file behind.
            values_file = os.path.join(build_dir, "values", f"{component}.yaml")
            changes = sync(files, os.path.join(build_dir, root, component), check_mode=self._task.check_mode,
                           stale=() if args.get("values") is not None else (values_file,))
        except (RenderError, OSError) as exc:
            raise AnsibleActionFail(str(exc)) from exc

        result["changed"] = bool(changes)
        result["files"] = sorted(files)
        result["documents"] = [doc for name in sorted(documents) for doc in documents[name]]
        result["manifests"] = documents
        result["values"] = values
        if self._task.diff and changes:
            result["diff"] = [
                {"before_header": c["path"], "after_header": c["path"],
                 "before": c["before"] or "", "after": c["after"] or ""} for c in changes]
        if args.get("render_only"):
            display.display(f"{component}: render-only, {len(files)} file(s) under {build_dir} (nothing applied)")
        return result
