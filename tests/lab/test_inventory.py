"""lab/inventory.py: the lab's nodes come from the inventory, checked before any container is made."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from lab_scripts import LAB, load_script

inventory = load_script("inventory.py")
SEED_NAMES = ["k8s-cp", "k8s-worker1", "k8s-worker2"]


def test_lab_inventory_gives_the_seed_topology_inside_its_subnet(root):
    result = subprocess.run(
        [sys.executable, str(LAB / "inventory.py"), str(root / "inventory/lab/hosts.yml"),
         str(root / "inventory/lab/group_vars/all/main.yml")],
        check=True, capture_output=True, text=True,
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["subnet", "172.30.10.0/24"]
    assert [name for _, name, _ in lines[1:]] == SEED_NAMES
    assert all(address.startswith("172.30.10.") for _, _, address in lines[1:])


def test_homelab_inventory_parses_to_the_same_names(root):
    data = yaml.safe_load((root / "inventory/homelab/hosts.yml").read_text())
    assert [name for name, _ in inventory.nodes(data)] == SEED_NAMES


def doc(text: str) -> dict:
    return yaml.safe_load(text)


def test_a_group_referenced_before_its_definition_still_has_its_hosts():
    data = doc("""
all:
  children:
    k8s_cluster:
      children:
        workers:
        cp:
    cp:
      hosts:
        a: {ansible_host: 10.0.0.2}
    workers:
      hosts:
        b: {ansible_host: 10.0.0.3}
        c: {ansible_host: 10.0.0.4}
    other:
      hosts:
        z: {ansible_host: 10.0.0.9}
""")
    assert inventory.nodes(data) == [("b", "10.0.0.3"), ("c", "10.0.0.4"), ("a", "10.0.0.2")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("all: {children: {k8s_cluster: {hosts: {a: {}}}}}", "no ansible_host"),
        ("all: {children: {k8s_cluster: {hosts: {a: {ansible_host: 10.0.0.2}, b: {ansible_host: 10.0.0.2}}}}}",
         "share"),
        ("all: {children: {k8s_cluster: {hosts: {Bad_Name: {ansible_host: 10.0.0.2}}}}}", "not a valid"),
        ("all: {children: {k8s_cluster: {hosts: {a: {ansible_host: k8s.example}}}}}", "IPv4"),
        ("all: {children: {k8s_cluster: {}}}", "no host"),
        ("all: {children: {other: {hosts: {a: {ansible_host: 10.0.0.2}}}}}", "not in the inventory"),
    ],
)
def test_bad_inventories_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        inventory.nodes(doc(text))


@pytest.mark.parametrize("address", ["10.1.0.1", "10.1.0.0", "10.1.0.255", "10.2.0.5"])
def test_node_addresses_must_be_usable_in_the_subnet(address):
    with pytest.raises(ValueError, match="not a usable node address"):
        inventory.check_subnet("10.1.0.0/24", [("a", address)])


def test_subnet_is_normalized():
    assert inventory.check_subnet("10.1.0.0/24", [("a", "10.1.0.10")]) == "10.1.0.0/24"


def test_cli_reports_errors_on_one_line(tmp_path):
    hosts = tmp_path / "hosts.yml"
    hosts.write_text("all: {children: {k8s_cluster: {hosts: {a: {}}}}}\n")
    result = subprocess.run([sys.executable, str(LAB / "inventory.py"), str(hosts)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "inventory: error: host 'a' has no ansible_host"
