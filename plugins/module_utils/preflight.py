# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Inventory-wide checks no single role can make. Pure functions: each returns a list of messages,
each message naming the variable, the value and the fix."""

from __future__ import annotations

import ipaddress


def _net(value, variable, errors):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        errors.append(f"{variable}={value!r} is not a network in CIDR form ({exc}). "
                      f"Fix: write it as address/prefix with no host bits set, such as 10.244.0.0/16.")
        return None


def _ip(value, variable, errors):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        errors.append(f"{variable}={value!r} is not an IP address. Fix: set it to the node's IPv4 address.")
        return None


def topology_errors(nodes, groups, settings):
    """Check the cluster topology.

    nodes: {hostname: node_ip}; groups: {group: [hostnames]};
    settings: kube_pod_cidr, kube_service_cidr, homelab_node_cidr (optional), kube_vip_enabled, kube_vip_address.
    """
    errors = []
    control_plane = list(groups.get("kube_control_plane") or [])
    workers = list(groups.get("kube_node") or [])
    if not control_plane:
        errors.append(
            f"groups['kube_control_plane'] is empty{' while kube_node lists ' + ', '.join(workers) if workers else ''}. "
            "Fix: put at least one host in the kube_control_plane group of the inventory.")
    if len(control_plane) % 2 == 0 and control_plane:
        errors.append(f"groups['kube_control_plane'] has {len(control_plane)} hosts; etcd needs an odd number to "
                      "keep quorum. Fix: use 1 or 3 control-plane hosts.")
    if len(control_plane) > 1 and not settings.get("kube_vip_enabled"):
        errors.append(f"groups['kube_control_plane'] has {len(control_plane)} hosts but kube_vip_enabled=false. "
                      "Fix: set kube_vip_enabled=true and kube_vip_address to a free address of the node subnet.")

    addresses = {}
    for host in sorted(nodes):
        ip = _ip(nodes[host], f"hostvars['{host}'].node_ip", errors)
        if ip is None:
            continue
        if ip in addresses:
            errors.append(f"hostvars['{host}'].node_ip={ip} is also the address of {addresses[ip]}. "
                          "Fix: give every node its own address.")
        else:
            addresses[ip] = host

    nets = {}
    for variable in ("kube_pod_cidr", "kube_service_cidr", "homelab_node_cidr"):
        if settings.get(variable):
            net = _net(settings[variable], variable, errors)
            if net is not None:
                nets[variable] = net
    names = list(nets)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if nets[first].overlaps(nets[second]):
                errors.append(f"{first}={nets[first]} overlaps {second}={nets[second]}. "
                              f"Fix: choose a {first} that shares no address with {second}.")
    for variable in ("kube_pod_cidr", "kube_service_cidr"):
        if variable in nets:
            for ip, host in addresses.items():
                if ip in nets[variable]:
                    errors.append(f"{variable}={nets[variable]} contains the address {ip} of node {host}. "
                                  f"Fix: choose a {variable} outside the node network.")
    node_net = nets.get("homelab_node_cidr")
    if node_net is not None:
        for ip, host in addresses.items():
            if ip not in node_net:
                errors.append(f"hostvars['{host}'].node_ip={ip} is outside homelab_node_cidr={node_net}. "
                              "Fix: correct the node address or homelab_node_cidr.")
    if settings.get("kube_vip_enabled"):
        vip = _ip(settings.get("kube_vip_address"), "kube_vip_address", errors) if settings.get(
            "kube_vip_address") else None
        if settings.get("kube_vip_address") in (None, ""):
            errors.append("kube_vip_address is empty while kube_vip_enabled=true. "
                          "Fix: set it to a free address of the node subnet.")
        elif vip is not None:
            if vip in addresses:
                errors.append(f"kube_vip_address={vip} is the address of node {addresses[vip]}. "
                              "Fix: use a free address of the node subnet.")
            if node_net is not None and vip not in node_net:
                errors.append(f"kube_vip_address={vip} is outside homelab_node_cidr={node_net}. "
                              "Fix: use a free address of the node subnet.")
    return errors
