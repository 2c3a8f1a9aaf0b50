#!/usr/bin/env python3
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Turn a CustomResourceDefinition into strict per-version JSON schemas, the way the shared CRD schemas are made.

Rules (kubeconform's openapi2jsonschema, as in ../shared/crd-schemas/SOURCES.md): the openAPIV3Schema of each
served version, every nested object with `properties` closed with `additionalProperties: false`, `format:
int-or-string` turned into oneOf string/integer, nodes with `x-kubernetes-preserve-unknown-fields: true` left
open, the root left open (the validator closes it). Output: <out>/<group>/<kind>_<version>.json.

Usage: crd_to_jsonschema.py CRD.yaml [OUT_DIR]
       crd_to_jsonschema.py --kubernetes-models GROUP KIND VERSION MODEL.js [OUT_DIR]
The second form reads the CRD-generated schema that an npm package of kubernetes-models-ts embeds
(`const schema = {...}` in <group>/<version>/<Kind>.js), for CRDs whose YAML is not reachable here; it drops
that generator's `nullable` markers (optional fields) and its metadata reference, then applies the same rules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def strict(node, root=False):
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: strict(value) for key, value in node.items()}
    if node.get("format") == "int-or-string":
        node.pop("format")
        node.pop("type", None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if ("properties" in node and not root and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        node["additionalProperties"] = False
    return node


def convert(crd_path, out_dir):
    written = []
    for crd in yaml.safe_load_all(Path(crd_path).read_text(encoding="utf-8")):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = json.loads(json.dumps(version["schema"]["openAPIV3Schema"]))  # expands YAML aliases
            path = Path(out_dir) / group / f"{kind.lower()}_{version['name']}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(strict(schema, root=True), indent=2, sort_keys=True) + "\n", encoding="utf-8")
            written.append(str(path))
    return written


def _drop(node, key):
    if isinstance(node, list):
        return [_drop(item, key) for item in node]
    if isinstance(node, dict):
        return {k: _drop(v, key) for k, v in node.items() if k != key}
    return node


def convert_kubernetes_models(group, kind, version, model_js, out_dir):
    text = Path(model_js).read_text(encoding="utf-8")
    start = text.index("const schema = ") + len("const schema = ")
    schema = json.loads(text[start:text.index("\n};", start) + 2])
    schema = _drop(schema, "nullable")
    schema["properties"].pop("metadata", None)
    path = Path(out_dir) / group / f"{kind.lower()}_{version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(strict(schema, root=True), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [str(path)]


if __name__ == "__main__":
    default_out = Path(__file__).parent
    if sys.argv[1:2] == ["--kubernetes-models"] and len(sys.argv) in (6, 7):
        written = convert_kubernetes_models(*sys.argv[2:6], sys.argv[6] if len(sys.argv) == 7 else default_out)
    elif len(sys.argv) in (2, 3):
        written = convert(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else default_out)
    else:
        raise SystemExit(__doc__)
    for name in written:
        print(name)
