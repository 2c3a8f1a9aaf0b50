"""module_utils/manifests.py: parsing, secret redaction, deterministic output, stale-file removal."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.homelab.stack.plugins.module_utils import manifests as m

SECRET = "FAKE-SECRET-unit-1234"


def test_load_documents_drops_empty_and_requires_kind():
    docs = m.load_documents("---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "a.yaml")
    assert [d["kind"] for d in docs] == ["ConfigMap"]
    with pytest.raises(m.RenderError, match="a.yaml: document 0 has no kind"):
        m.load_documents("apiVersion: v1\n", "a.yaml")
    with pytest.raises(m.RenderError, match="not valid YAML"):
        m.load_documents("a: [", "a.yaml")


def test_secrets_are_redacted_in_files_but_returned_in_documents(tmp_path):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": SECRET}}
    files, documents, _ = m.plan(str(tmp_path), "manifests", "app", {"s.yaml": [secret]})
    assert documents["s.yaml"][0]["stringData"]["password"] == SECRET
    text = next(iter(files.values()))
    assert SECRET not in text and m.REDACTED in text


def test_plan_is_deterministic_and_sync_is_idempotent(tmp_path):
    content = {"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {z: '1', a: '2'}\n",
               "a.yaml": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}}
    files, _, values = m.plan(str(tmp_path), "manifests", "c", content, values="x: 1\n")
    assert values == {"x": 1}
    assert files == m.plan(str(tmp_path), "manifests", "c", content, values="x: 1\n")[0]
    assert len(m.sync(files, str(tmp_path / "manifests" / "c"))) == 3
    assert m.sync(files, str(tmp_path / "manifests" / "c")) == []
    body = yaml.safe_load_all((tmp_path / "manifests" / "c" / "b.yaml").read_text())
    assert list(next(iter(body))["data"]) == ["z", "a"]  # template order kept


def test_sync_removes_stale_files_and_check_mode_writes_nothing(tmp_path):
    one = {"a.yaml": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}}
    files, _, _ = m.plan(str(tmp_path), "manifests", "c", one)
    m.sync(files, str(tmp_path / "manifests" / "c"))
    none, _, _ = m.plan(str(tmp_path), "manifests", "c", {})
    changes = m.sync(none, str(tmp_path / "manifests" / "c"), check_mode=True)
    assert [c["after"] for c in changes] == [None]
    assert (tmp_path / "manifests" / "c" / "a.yaml").exists()
    m.sync(none, str(tmp_path / "manifests" / "c"))
    assert not (tmp_path / "manifests" / "c" / "a.yaml").exists()


@pytest.mark.parametrize("component", ["", "a/b", ".hidden"])
def test_bad_component_names_are_rejected(tmp_path, component):
    with pytest.raises(m.RenderError, match="component="):
        m.plan(str(tmp_path), "manifests", component, {})


def test_sync_removes_an_explicitly_stale_file(tmp_path):
    values, _, _ = m.plan(str(tmp_path), "manifests", "c", {}, values={"a": 1})
    m.sync(values, str(tmp_path / "manifests" / "c"))
    stale = str(tmp_path / "values" / "c.yaml")
    changes = m.sync({}, str(tmp_path / "manifests" / "c"), stale=(stale,))
    assert [c["path"] for c in changes] == [stale] and not (tmp_path / "values" / "c.yaml").exists()


def test_multiline_strings_are_written_as_literal_blocks_and_read_back_equal(tmp_path):
    config = "server {\n  listen 80;\n}\n"
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"default.conf": config,
                                                                                     "odd": "trailing \nspace"}}
    files, _, _ = m.plan(str(tmp_path), "manifests", "c", {"c.yaml": [doc]})
    text = next(iter(files.values()))
    assert "default.conf: |\n    server {\n" in text
    assert next(yaml.safe_load_all(text))["data"] == doc["data"]
