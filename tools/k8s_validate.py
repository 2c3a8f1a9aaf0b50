#!/usr/bin/env python3
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Validate rendered Kubernetes documents against strict schemas, offline and fast.

Core kinds: the Kubernetes 1.31 strict schemas bundled in the PyPI package kubernetes-validate.
Custom resources: <location>/<group>/<kind>_<version>.json (the kubeconform / CRDs-catalog layout), where
the locations are HOMELAB_CRD_SCHEMAS (folders or http(s) URLs, separated by spaces; the first that has the
kind wins), defaulting to the public CRDs catalog.
A kind found in neither place is an error, never a pass. Helm values files (under a `values/` folder)
are not Kubernetes objects and are only checked to be YAML mappings.

Usage: k8s_validate.py [--kube-version 1.31] PATH...   (files or folders; exit 1 on any error)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import urllib.request
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource

DEFAULT_CRD_LOCATION = "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main"
OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Component configuration files (read by kubeadm, kubelet, kube-proxy), not API objects: checked by pytest.
CONFIG_GROUPS = ("kubeadm.k8s.io", "kubelet.config.k8s.io", "kubeproxy.config.k8s.io")


def _core_dir(kube_version: str) -> Path:
    import kubernetes_validate
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = root / f"v{kube_version}.0-local-strict"
    if not path.is_dir():
        raise SystemExit(f"kubernetes-validate has no strict schemas for {kube_version} under {root}")
    return path


class Validator:
    def __init__(self, kube_version="1.31", crd_location=None):
        self.core = _core_dir(kube_version)
        self.crd_location = crd_location or os.environ.get("HOMELAB_CRD_SCHEMAS") or DEFAULT_CRD_LOCATION
        self.crd_locations = self.crd_location.split()
        with open(self.core / "_definitions.json", encoding="utf-8") as handle:
            definitions = json.load(handle)
        self.registry = Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))
        self._validators = {}

    # -- schema lookup -------------------------------------------------------------------------
    def _core_schema(self, group, version, kind):
        if group and "." in group and not group.endswith(".k8s.io"):
            return None
        prefix = group.split(".")[0] + "-" if group else ""
        path = self.core / f"{kind.lower()}-{prefix}{version}.json"
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    @lru_cache(maxsize=None)
    def _crd_text(self, group, version, kind):
        name = f"{group}/{kind.lower()}_{version}.json"
        for location in self.crd_locations:
            location = location.rstrip("/")
            if location.startswith(("http://", "https://")):
                try:
                    with urllib.request.urlopen(f"{location}/{name}", timeout=20) as response:
                        return response.read().decode()
                except OSError:
                    continue
            path = Path(location) / name
            if path.is_file():
                return path.read_text(encoding="utf-8")
        return None

    def _crd_schema(self, group, version, kind):
        text = self._crd_text(group, version, kind)
        if text is None:
            return None
        schema = copy.deepcopy(json.loads(text))
        # The catalog leaves the root open; close it and check metadata like the API server would.
        schema.setdefault("additionalProperties", False)
        schema.setdefault("properties", {})
        schema["properties"]["metadata"] = {"$ref": OBJECT_META}
        # Some catalog schemas (Istio's) do not declare the type fields a closed root must allow.
        schema["properties"].setdefault("apiVersion", {"type": "string"})
        schema["properties"].setdefault("kind", {"type": "string"})
        return schema

    def validator_for(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._validators:
            group, _, version = api_version.rpartition("/")
            schema = self._core_schema(group, version, kind) or (
                self._crd_schema(group, version, kind) if group else None)
            self._validators[key] = None if schema is None else jsonschema.Draft202012Validator(
                schema, registry=self.registry)
        return self._validators[key]

    # -- documents -----------------------------------------------------------------------------
    def validate_document(self, doc):
        """Return a list of error strings for one document (empty when valid)."""
        if not isinstance(doc, dict):
            return [f"not a mapping but {type(doc).__name__}"]
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if not api_version or not kind:
            return ["no apiVersion or kind"]
        if api_version.split("/")[0] in CONFIG_GROUPS:
            return []
        validator = self.validator_for(api_version, kind)
        if validator is None:
            return [f"unknown kind {kind} in {api_version}: no Kubernetes 1.31 schema and no CRD schema at "
                    f"{self.crd_location}"]
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:300]}" for e in errors]

    def validate_file(self, path):
        """Yield (label, errors) per document of a YAML file."""
        try:
            docs = [d for d in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")) if d is not None]
        except yaml.YAMLError as exc:
            yield f"{path}", [f"invalid YAML: {exc}"]
            return
        if "values" in Path(path).parts[-2:-1]:
            for doc in docs:
                yield f"{path} (helm values)", ([] if isinstance(doc, dict) else ["values must be a mapping"])
            return
        for index, doc in enumerate(docs):
            meta = doc.get("metadata") or {} if isinstance(doc, dict) else {}
            label = f"{path}#{index} {doc.get('kind') if isinstance(doc, dict) else '?'}/{meta.get('name', '?')}"
            yield label, self.validate_document(doc)


def yaml_files(paths):
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            yield path
        else:
            raise SystemExit(f"{path}: no such file or folder (render first: make render)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--kube-version", default="1.31")
    parser.add_argument("--crd-location", default=None, help="overrides HOMELAB_CRD_SCHEMAS")
    args = parser.parse_args(argv)
    validator = Validator(args.kube_version, args.crd_location)
    count, failed, kinds = 0, 0, set()
    for path in yaml_files(args.paths):
        for label, errors in validator.validate_file(path):
            count += 1
            kinds.add(label.split(" ")[1].split("/")[0] if " " in label else "?")
            if errors:
                failed += 1
                print(f"FAIL {label}")
                for error in errors[:20]:
                    print(f"     {error}")
    print(f"{count} documents, {len(kinds)} kinds, {failed} invalid "
          f"(Kubernetes {args.kube_version} strict + CRDs from {validator.crd_location})")
    return 1 if failed or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
