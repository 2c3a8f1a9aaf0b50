# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Pure functions behind the k8s_render action: parse, redact, serialise and sync rendered files.

Kept free of Ansible imports so pytest and the tools/ scripts use them directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import yaml

REDACTED = "<redacted: lives in ansible-vault, applied from memory only>"
HEADER = "# Rendered by homelab.stack ({component}); edit the inventory or the role, not this file.\n"


class _Dumper(yaml.SafeDumper):
    """Safe dumper writing multi-line strings (configs, scripts) as readable literal blocks."""


def _represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump_one(data):
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096,
                     allow_unicode=True)


class RenderError(ValueError):
    """Bad input for a render: the message names the file and the fix."""


def plain(value):
    """Return value as plain dict/list/str/int/float/bool/None, recursively (drops Ansible tags)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (Sequence, set, frozenset)) and not isinstance(value, (bytes, bytearray)):
        return [plain(v) for v in value]
    return str(value)


def load_documents(content, name):
    """Parse one manifest file's content (YAML text, a mapping, or a list of mappings) into documents.

    Empty documents are dropped, so a template may emit nothing when its feature is off.
    """
    if content is None:
        return []
    if isinstance(content, str):
        try:
            docs = list(yaml.safe_load_all(content))
        except yaml.YAMLError as exc:
            raise RenderError(f"{name}: rendered text is not valid YAML ({exc}); fix the template") from exc
    elif isinstance(content, Mapping):
        docs = [content]
    elif isinstance(content, Sequence):
        docs = list(content)
    else:
        raise RenderError(f"{name}: expected YAML text, a mapping or a list of mappings, got {type(content).__name__}")
    result = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise RenderError(f"{name}: document {index} is a {type(doc).__name__}, not a Kubernetes object")
        doc = plain(doc)
        if not doc:
            continue
        missing = [key for key in ("apiVersion", "kind") if not doc.get(key)]
        if missing:
            raise RenderError(f"{name}: document {index} has no {' and '.join(missing)}")
        result.append(doc)
    return result


def redact(doc):
    """Return doc with the values of a Secret replaced, so no secret reaches a file or a diff."""
    if doc.get("kind") != "Secret":
        return doc
    redacted = dict(doc)
    for key in ("data", "stringData"):
        if isinstance(doc.get(key), Mapping):
            redacted[key] = {k: REDACTED for k in doc[key]}
    return redacted


def dump(docs, component):
    """Serialise documents deterministically (template order kept, stable formatting)."""
    body = "---\n".join(_dump_one(doc) for doc in docs)
    return HEADER.format(component=component) + ("---\n" + body if body else "")


def plan(build_dir, root, component, manifests, values=None):
    """Compute every file a render writes: {path: text}, plus the parsed documents per file name."""
    if not component or "/" in component or component.startswith("."):
        raise RenderError(f"component={component!r}: use a plain folder name such as 'cilium'")
    files = {}
    documents = {}
    for name in sorted(manifests or {}):
        if "/" in name or not name.endswith((".yaml", ".yml")):
            raise RenderError(f"manifests key {name!r}: use a plain file name ending in .yaml")
        docs = load_documents(manifests[name], name)
        documents[name] = docs
        files[os.path.join(build_dir, root, component, name)] = dump([redact(d) for d in docs], component)
    if values is not None:
        if isinstance(values, str):
            try:
                values = yaml.safe_load(values) or {}
            except yaml.YAMLError as exc:
                raise RenderError(f"values of {component}: not valid YAML ({exc}); fix the template") from exc
        if not isinstance(values, Mapping):
            raise RenderError(f"values of {component}: expected a mapping, got {type(values).__name__}")
        values = plain(values)
        text = HEADER.format(component=component) + _dump_one(values)
        files[os.path.join(build_dir, "values", component + ".yaml")] = text
    return files, documents, values


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def sync(files, managed_dir, check_mode=False, stale=()):
    """Write files whose content changed and delete stale files in managed_dir (and the paths in stale).

    Returns a list of {path, before, after} for every change (after None means deleted).
    """
    changes = []
    for path in stale:
        if path not in files and os.path.isfile(path):
            changes.append({"path": path, "before": _read(path), "after": None})
    for path, text in files.items():
        before = _read(path)
        if before != text:
            changes.append({"path": path, "before": before, "after": text})
    if os.path.isdir(managed_dir):
        wanted = {os.path.abspath(p) for p in files}
        for entry in sorted(os.listdir(managed_dir)):
            path = os.path.abspath(os.path.join(managed_dir, entry))
            if os.path.isfile(path) and path not in wanted and entry.endswith((".yaml", ".yml")):
                changes.append({"path": path, "before": _read(path), "after": None})
    if not check_mode:
        for change in changes:
            if change["after"] is None:
                os.unlink(change["path"])
                continue
            os.makedirs(os.path.dirname(change["path"]), exist_ok=True)
            tmp = change["path"] + ".tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(change["after"])
            os.chmod(tmp, 0o644)
            os.replace(tmp, change["path"])
    return changes
