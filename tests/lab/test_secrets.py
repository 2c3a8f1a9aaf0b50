"""lab/vault_fill.py and lab/daemon_json.py: the small file rewrites behind secrets.sh and docker.sh."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from lab_scripts import LAB, load_script

vault_fill = load_script("vault_fill.py")
daemon_json = load_script("daemon_json.py")


def test_every_example_key_gets_a_distinct_random_value_except_empty_ones(root):
    example = yaml.safe_load((root / "inventory/homelab/group_vars/all/vault.yml.example").read_text())
    merged, added = vault_fill.fill(example, {})
    assert added == list(example)
    assert merged["vault_slack_webhook_url"] == ""
    secrets = [value for key, value in merged.items() if key != "vault_slack_webhook_url"]
    assert len(set(secrets)) == len(secrets) == len(example) - 1
    assert all(len(value) >= 24 and value != "change-me" for value in secrets)


def test_existing_values_are_kept_and_only_missing_keys_added():
    merged, added = vault_fill.fill({"a": "x", "b": "x", "c": ""}, {"a": "kept", "extra": "mine"},
                                    token=lambda: "new")
    assert merged == {"a": "kept", "extra": "mine", "b": "new", "c": ""}
    assert added == ["b", "c"]


def test_cli_rewrites_only_when_needed_and_never_prints_a_value(tmp_path):
    example = tmp_path / "example.yml"
    example.write_text("---\nvault_one: change-me\nvault_two: ''\n")
    plain = tmp_path / "plain.yml"
    plain.write_text("")
    command = [sys.executable, str(LAB / "vault_fill.py"), str(example), str(plain)]

    first = subprocess.run(command, check=True, capture_output=True, text=True)
    assert first.stdout == "2\n" and first.stderr == ""
    written = plain.read_text()
    values = yaml.safe_load(written)
    assert set(values) == {"vault_one", "vault_two"} and values["vault_one"] not in first.stdout

    second = subprocess.run(command, check=True, capture_output=True, text=True)
    assert second.stdout == "0\n" and plain.read_text() == written


def test_cli_refuses_a_vault_that_is_not_a_mapping_without_quoting_it(tmp_path):
    example = tmp_path / "example.yml"
    example.write_text("vault_one: x\n")
    plain = tmp_path / "plain.yml"
    plain.write_text("- secret-value-123\n")
    result = subprocess.run([sys.executable, str(LAB / "vault_fill.py"), str(example), str(plain)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "secret-value-123" not in result.stderr + result.stdout


def test_daemon_json_merge_keeps_other_settings():
    current = {"log-driver": "json-file", "runtimes": {"other": {"path": "/x"}}, "default-runtime": "runc"}
    merged = daemon_json.with_runtime(current, "homelab-capfilter", "/w")
    assert merged == {"log-driver": "json-file", "default-runtime": "homelab-capfilter",
                      "runtimes": {"other": {"path": "/x"}, "homelab-capfilter": {"path": "/w"}}}
    assert current["default-runtime"] == "runc"  # the input is not modified
    assert daemon_json.with_runtime(merged, "homelab-capfilter", "/w") == merged


def test_daemon_json_cli_writes_once(tmp_path):
    path = tmp_path / "docker" / "daemon.json"
    command = [sys.executable, str(LAB / "daemon_json.py"), str(path), "homelab-capfilter", "/w"]
    assert subprocess.run(command, check=True, capture_output=True, text=True).stdout == "changed\n"
    assert json.loads(path.read_text())["default-runtime"] == "homelab-capfilter"
    before = path.stat().st_mtime_ns
    assert subprocess.run(command, check=True, capture_output=True, text=True).stdout == "unchanged\n"
    assert path.stat().st_mtime_ns == before


def test_daemon_json_cli_refuses_a_non_object(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text("[]")
    result = subprocess.run([sys.executable, str(LAB / "daemon_json.py"), str(path), "n", "/w"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and path.read_text() == "[]"
