"""preflight_hosts: the host-layer checks run on one host per distinct set of groups and host-layer settings.

A host left out must see exactly what a kept host sees, so its checks could not answer differently; anything the
filter cannot read keeps the host.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.homelab.stack.plugins.filter.preflight import FilterModule
from ansible_collections.homelab.stack.plugins.module_utils.preflight import distinct_hosts, preflight_hosts
from conftest import ROOT

GROUPS = {"all": ["cp", "w1", "w2", "w3"], "kube_control_plane": ["cp"], "kube_node": ["w1", "w2", "w3"],
          "k8s_cluster": ["cp", "w1", "w2", "w3"]}
PREFIXES = ["os_prep", "containerd", "kube"]


def _hostvars(**overrides):
    base = {"kube_version": "v1.31.13", "os_prep_sysctls": {"net.ipv4.ip_forward": 1}, "node_ip": None,
            "ansible_host": None, "vault_mysql_password": "x"}
    hostvars = {}
    for index, host in enumerate(GROUPS["all"]):
        hostvars[host] = dict(base, node_ip=f"10.0.0.{index + 1}", ansible_host=f"10.0.0.{index + 1}",
                              **overrides.get(host, {}))
    return hostvars


def test_uniform_nodes_need_one_control_plane_and_one_worker():
    assert preflight_hosts(GROUPS["all"], _hostvars(), GROUPS, PREFIXES) == ["cp", "w1"]


def test_a_worker_with_its_own_host_layer_setting_is_checked_too():
    hostvars = _hostvars(w2={"os_prep_sysctls": {"net.ipv4.ip_forward": 0}})
    assert preflight_hosts(GROUPS["all"], hostvars, GROUPS, PREFIXES) == ["cp", "w1", "w2"]


def test_settings_of_other_roles_and_addresses_do_not_split_hosts():
    hostvars = _hostvars(w3={"vault_mysql_password": "other", "grafana_replicas": 2})
    assert preflight_hosts(GROUPS["all"], hostvars, GROUPS, PREFIXES) == ["cp", "w1"]


def test_group_membership_splits_hosts():
    groups = dict(GROUPS, gpu=["w3"])
    assert preflight_hosts(GROUPS["all"], _hostvars(), groups, PREFIXES) == ["cp", "w1", "w3"]


def test_only_the_play_hosts_are_considered_in_their_order():
    assert preflight_hosts(["w2", "w1"], _hostvars(), GROUPS, PREFIXES) == ["w2"]


class _Unreadable(dict):
    def __getitem__(self, name):
        if name == "kube_version":
            raise KeyError("undefined variable in a template")
        return super().__getitem__(name)


def test_a_host_whose_settings_cannot_be_read_is_kept_on_its_own():
    hostvars = _hostvars()
    hostvars["w2"] = _Unreadable(hostvars["w2"])
    hostvars["w3"] = _Unreadable(hostvars["w3"])
    assert preflight_hosts(GROUPS["all"], hostvars, GROUPS, PREFIXES) == ["cp", "w1", "w2", "w3"]


def test_distinct_hosts_keeps_the_first_of_each_kind():
    kinds = {"a": 1, "b": 2, "c": 1, "d": 3, "e": 2}
    assert distinct_hosts(list(kinds), lambda host: kinds[host]) == ["a", "b", "d"]


PER_HOST = yaml.safe_load((ROOT / "roles" / "preflight" / "defaults" / "main.yml").read_text())[
    "preflight_per_host_roles"]


def _expressions(node, in_condition=False):
    """Every Jinja expression of a task list: conditions (that, when) whole, other strings' {{ }} parts."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _expressions(value, key in ("that", "when", "failed_when", "changed_when"))
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value, in_condition)
    elif isinstance(node, str):
        yield from [node] if in_condition else re.findall(r"{{(.*?)}}", node, re.S)


@pytest.mark.parametrize("role", PER_HOST)
def test_per_host_checks_read_no_per_host_variable_but_their_own(role):
    """What preflight_hosts relies on: a host-layer role's checks see a host only through the variables the
    filter compares (the role's, kube_*, homelab_*) and inventory-wide ones, never its name, address or facts."""
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "preflight.yml").read_text(encoding="utf-8"))
    expressions = list(_expressions(tasks))
    assert expressions, f"roles/{role}/tasks/preflight.yml: no expression found, the check below would be empty"
    used = {name for text in expressions for name in re.findall(
        r"\b(inventory_hostname|ansible_facts|ansible_host|node_ip|group_names|ansible_[a-z_]+)\b", text)}
    assert used == set(), f"roles/{role}/tasks/preflight.yml reads {sorted(used)}: preflight_hosts would miss it"


def test_the_filter_is_the_module_utils_function():
    assert FilterModule().filters()["preflight_hosts"] is preflight_hosts
