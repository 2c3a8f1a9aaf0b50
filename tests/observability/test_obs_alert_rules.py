"""The seed's eight alert rules: valid for promtool, unit-tested with series, and the unit tests bite."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from obs_support import env_dir, find, homelab_dir, manifests, run, system_tool  # noqa: F401 (fixtures)

HERE = Path(__file__).parent
SEED_ALERTS = {
    "PodDown": "critical", "HighCPUUsage": "critical", "MySQLDown": "critical",
    "HighMemoryUsage": "warning", "HighRequestRate": "warning", "SlowQueries": "warning",
    "HighErrorRate": "warning", "DiskSpaceWarning": "warning",
}
THRESHOLD = re.compile(r">\s*([0-9.]+)\s*$")


def rule_groups(env_dir):
    rule = find(manifests(env_dir, "prometheus"), "PrometheusRule", "homelab-alerts")
    assert rule["metadata"]["namespace"] == "monitoring"
    return rule["spec"]["groups"]


def write_rules(folder: Path, groups) -> Path:
    path = folder / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


def promtool_test(folder: Path, groups):
    write_rules(folder, groups)
    shutil.copy(HERE / "rules_test.yml", folder / "rules_test.yml")
    return run([system_tool("promtool"), "test", "rules", "rules_test.yml"], cwd=folder)


def alerts(groups):
    return {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}


def test_the_eight_seed_alerts_with_their_severity(env_dir):
    found = alerts(rule_groups(env_dir))
    assert {name: rule["labels"]["severity"] for name, rule in found.items()} == SEED_ALERTS
    assert found["PodDown"]["for"] == "5m" and found["HighCPUUsage"]["for"] == "10m"
    assert found["HighMemoryUsage"]["for"] == "5m" and found["HighErrorRate"]["for"] == "5m"


def test_promtool_check_rules(env_dir, tmp_path):
    result = run([system_tool("promtool"), "check", "rules", str(write_rules(tmp_path, rule_groups(env_dir)))])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_promtool_unit_tests_pass(env_dir, tmp_path):
    result = promtool_test(tmp_path, rule_groups(env_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _mutated(groups, alert, change):
    groups = yaml.safe_load(yaml.safe_dump(groups))
    for group in groups:
        for index, rule in enumerate(list(group["rules"])):
            if rule.get("alert") == alert:
                if change is None:
                    group["rules"].pop(index)
                else:
                    change(rule)
    return groups


# The mutation tests below prove rules_test.yml bites; the rules are the same in every environment.
@pytest.mark.parametrize("alert", sorted(SEED_ALERTS))
def test_unit_tests_fail_without_the_rule(homelab_dir, tmp_path, alert):
    result = promtool_test(tmp_path, _mutated(rule_groups(homelab_dir), alert, None))
    assert result.returncode != 0, f"rules_test.yml still passes with {alert} removed: it does not test {alert}"


@pytest.mark.parametrize("alert", sorted(SEED_ALERTS))
def test_unit_tests_fail_when_the_rule_ignores_its_for_duration(homelab_dir, tmp_path, alert):
    def no_wait(rule):
        rule["for"] = "0s"
    result = promtool_test(tmp_path, _mutated(rule_groups(homelab_dir), alert, no_wait))
    assert result.returncode != 0, f"rules_test.yml does not check that {alert} waits for its `for` duration"


@pytest.mark.parametrize("factor", [0.9, 2.0], ids=["threshold-lowered-10pct", "threshold-doubled"])
@pytest.mark.parametrize("alert", ["HighCPUUsage", "HighMemoryUsage", "DiskSpaceWarning", "HighRequestRate",
                                   "SlowQueries", "HighErrorRate"])
def test_unit_tests_pin_each_threshold(homelab_dir, tmp_path, alert, factor):
    """Lowered 10%, the just-below series must fire; doubled, the above series must not: both fail the tests."""
    def scale(rule):
        expr = " ".join(rule["expr"].split())
        match = THRESHOLD.search(expr)
        assert match, f"{alert}: no trailing `> threshold` in {expr}"
        rule["expr"] = expr[:match.start(1)] + repr(float(match.group(1)) * factor)
    result = promtool_test(tmp_path, _mutated(rule_groups(homelab_dir), alert, scale))
    assert result.returncode != 0, f"rules_test.yml still passes with the {alert} threshold x{factor}"
