"""Lifecycle playbooks: destructive ones refuse check mode, upgrade.yml stops in one line in render-only mode,
and every playbook is thin (preflight first, then roles). No host is reached: see lifecycle_run.py."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT
from lifecycle_run import run

LIFECYCLE = ["upgrade", "reset", "scale", "remove_node", "etcd_backup", "etcd_restore", "mysql_restore"]


@pytest.mark.parametrize("playbook, confirm, message", [
    ("reset", {"kube_reset_confirm": "yes"}, "check mode cannot show what a reset removes"),
    ("etcd_restore", {"etcd_snapshot_restore_confirm": "yes"}, "check mode cannot show what a restore does"),
    ("mysql_restore", {"mysql_restore_confirm": "yes", "mysql_restore_source": "file",
                       "mysql_restore_file": "/nonexistent/mysql-backup-20260127-180000.sql.gz"},
     "check mode cannot show what a restore does without replacing the database"),
])
def test_destructive_playbook_refuses_check_mode(tmp_path, playbook, confirm, message):
    result, output = run(tmp_path, f"playbooks/{playbook}.yml", confirm, args=["--check"])
    assert result.returncode == 2, output[-3000:]
    assert message in output, output[-3000:]
    assert "Fix: run without --check" in output
    assert "unreachable=1" not in output, output[-3000:]


def test_remove_node_refuses_the_first_control_plane(tmp_path):
    result, output = run(tmp_path, "playbooks/remove_node.yml", {"kube_reset_confirm": "yes"},
                         args=["--limit", "k8s-cp"])
    assert result.returncode == 2, output[-3000:]
    assert "the first control plane (k8s-cp) runs kubectl for the others and cannot be removed" in output


def test_upgrade_in_render_only_mode_says_so_in_one_line_and_contacts_nothing(tmp_path):
    result, output = run(tmp_path, "playbooks/upgrade.yml", {"kube_version": "v1.31.14"})
    assert result.returncode == 0, output[-3000:]
    lines = [line for line in output.splitlines() if "render-only: upgrade.yml needs" in line]
    assert len(lines) == 1, output[-3000:]
    assert "v1.31.14" in lines[0] and "nothing was changed on any host" in lines[0]
    assert "unreachable=0" in output and "unreachable=1" not in output
    assert "changed=1" not in output


@pytest.mark.parametrize("name", LIFECYCLE)
def test_playbook_is_thin_and_runs_preflight_first(name):
    plays = yaml.safe_load((ROOT / "playbooks" / f"{name}.yml").read_text(encoding="utf-8"))
    assert plays[0] == {"name": "Preflight", "ansible.builtin.import_playbook": "preflight.yml"}
    for play in plays[1:]:
        assert play["gather_facts"] in (True, False), f"{name}: {play['name']} must say whether it gathers facts"
        for task in play.get("tasks") or []:
            module = next(k for k in task if k not in ("name", "when", "run_once", "vars"))
            assert module in ("ansible.builtin.include_role", "ansible.builtin.assert"), \
                f"{name}: {play['name']} runs {module}; thin playbooks only call roles (and assert their input)"
        assert (play.get("roles") or play.get("tasks")), f"{name}: {play['name']} does nothing"


def test_node_by_node_plays_are_serial():
    for name, play_name in (("upgrade", "Upgrade | node by node, control planes first"),
                            ("remove_node", "Remove node | drain, delete the Node object, reset (one node at a time)")):
        plays = {p.get("name"): p for p in yaml.safe_load((ROOT / "playbooks" / f"{name}.yml").read_text())}
        assert plays[play_name]["serial"] == 1


@pytest.mark.parametrize("name", ["kube_drain", "kube_reset", "kube_upgrade", "kube_scale", "etcd_snapshot",
                                  "mysql_restore"])
def test_every_tasks_from_entry_point_is_validated(name):
    """A role entry point used with tasks_from gets its own argument spec (an alias of main), so its inputs
    are type-checked exactly like main's."""
    specs = yaml.safe_load((ROOT / "roles" / name / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    used = set()
    for playbook in LIFECYCLE:
        text = (ROOT / "playbooks" / f"{playbook}.yml").read_text()
        for play in yaml.safe_load(text)[1:]:
            for task in play.get("tasks") or []:
                include = task.get("ansible.builtin.include_role") or {}
                if include.get("name") == f"homelab.stack.{name}" and include.get("tasks_from"):
                    used.add(include["tasks_from"])
    for entry in used:
        assert specs.get(entry) == specs["main"], f"{name}: entry point {entry} must alias main"
