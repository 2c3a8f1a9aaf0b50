#!/usr/bin/env python3
"""Read the lab's nodes from the inventory, so lab.sh never repeats an address.

Usage: inventory.py HOSTS_YML [GROUP_VARS_MAIN_YML]. Prints `subnet <cidr>` (homelab_node_cidr of the group vars,
when given) and one `node <name> <address>` line per host of k8s_cluster, in inventory order.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path

import yaml

GROUP = "k8s_cluster"
# Host names become container and host names: keep them to what both accept.
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def flatten(all_group: dict) -> dict[str, dict]:
    """Every group of a YAML inventory by name: {"hosts": {host: vars}, "children": [names]}.

    A group may appear several times (defined once, referenced as a bare `name:` elsewhere); all merge.
    """
    groups: dict[str, dict] = {}

    def walk(name: str, node: dict) -> None:
        group = groups.setdefault(name, {"hosts": {}, "children": []})
        for host, host_vars in (node.get("hosts") or {}).items():
            group["hosts"].setdefault(host, {}).update(host_vars or {})
        for child_name, child in (node.get("children") or {}).items():
            if child_name not in group["children"]:
                group["children"].append(child_name)
            walk(child_name, child or {})

    walk("all", all_group)
    return groups


def group_hosts(all_group: dict, group: str) -> dict[str, dict]:
    """Hosts of `group` and of its children (recursively), with their inline vars, in inventory order."""
    groups = flatten(all_group)
    if group not in groups:
        raise ValueError(f"group {group!r} is not in the inventory")
    found: dict[str, dict] = {}
    seen: set[str] = set()

    def collect(name: str) -> None:
        if name in seen:  # a cycle is Ansible's error to report; do not loop on it
            return
        seen.add(name)
        for host, host_vars in groups[name]["hosts"].items():
            found.setdefault(host, {}).update(host_vars)
        for child in groups[name]["children"]:
            collect(child)

    collect(group)
    return found


def nodes(inventory: dict, group: str = GROUP) -> list[tuple[str, str]]:
    """(name, ansible_host) of every host of `group`; every host needs a unique IPv4 address."""
    hosts = group_hosts(inventory.get("all") or {}, group)
    if not hosts:
        raise ValueError(f"group {group!r} has no host")
    result = []
    for name, host_vars in hosts.items():
        if not NAME.match(name):
            raise ValueError(f"host name {name!r} is not a valid container/host name")
        address = host_vars.get("ansible_host")
        if not address:
            raise ValueError(f"host {name!r} has no ansible_host")
        try:
            result.append((name, str(ipaddress.IPv4Address(address))))
        except ValueError:
            raise ValueError(f"host {name!r}: ansible_host {address!r} is not an IPv4 address") from None
    addresses = [address for _, address in result]
    if len(set(addresses)) != len(addresses):
        raise ValueError("two hosts share an ansible_host")
    return result


def check_subnet(cidr: str, pairs: list[tuple[str, str]]) -> str:
    """The normalized subnet; every node address must be a host address inside it, never the gateway (.1)."""
    network = ipaddress.IPv4Network(cidr)
    gateway = next(network.hosts())
    for name, address in pairs:
        ip = ipaddress.IPv4Address(address)
        if ip not in network or ip in (network.network_address, network.broadcast_address, gateway):
            raise ValueError(f"{name}: {address} is not a usable node address of {network}")
    return str(network)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        pairs = nodes(yaml.safe_load(Path(argv[0]).read_text()) or {})
        if len(argv) == 2:
            group_vars = yaml.safe_load(Path(argv[1]).read_text()) or {}
            cidr = group_vars.get("homelab_node_cidr")
            if not cidr:
                raise ValueError(f"{argv[1]} has no homelab_node_cidr")
            print(f"subnet {check_subnet(cidr, pairs)}")
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"inventory: error: {error}", file=sys.stderr)
        return 1
    for name, address in pairs:
        print(f"node {name} {address}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
