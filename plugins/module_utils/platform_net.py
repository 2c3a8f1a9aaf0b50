# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Address checks of the platform layer (MetalLB pool, load-balancer IPs). Pure functions.

Each *_errors function returns a list of messages, each naming the variable, the value and the fix;
an empty list means valid.
"""

from __future__ import annotations

import ipaddress


def parse_range(entry):
    """Return (first, last) addresses of one MetalLB pool entry: `a.b.c.d-e.f.g.h` or a CIDR.

    Raises ValueError with a readable reason.
    """
    text = str(entry).strip()
    if "-" in text:
        start_text, _, end_text = text.partition("-")
        start = ipaddress.ip_address(start_text.strip())
        end = ipaddress.ip_address(end_text.strip())
        if start.version != end.version:
            raise ValueError("both ends must be of the same IP version")
        if int(end) < int(start):
            raise ValueError(f"{end} comes before {start}")
        return start, end
    network = ipaddress.ip_network(text, strict=True)
    return network[0], network[-1]


def pool_addresses_count(pool):
    """Number of addresses in a valid pool (entries may overlap; each address counts once)."""
    seen = set()
    for entry in pool or []:
        start, end = parse_range(entry)
        seen.update(range(int(start), int(end) + 1))
    return len(seen)


def _contains(ranges, ip):
    return any(start.version == ip.version and int(start) <= int(ip) <= int(end) for start, end in ranges)


def metallb_pool_errors(pool, node_cidr, nodes, variable="metallb_address_pool"):
    """Check a MetalLB pool against the node subnet and the node addresses.

    pool: list of ranges or CIDRs; node_cidr: homelab_node_cidr ('' skips the subnet check);
    nodes: {hostname: node_ip}.
    """
    errors = []
    if isinstance(pool, (str, bytes)) or not isinstance(pool, (list, tuple)):
        return [f"{variable}={pool!r} is not a list. Fix: write it as a YAML list of ranges, "
                f"such as ['192.168.1.200-192.168.1.210']."]
    if not pool:
        return [f"{variable} is empty. Fix: give MetalLB at least one free range of the node subnet, "
                f"such as 192.168.1.200-192.168.1.210."]
    subnet = None
    if node_cidr:
        try:
            subnet = ipaddress.ip_network(str(node_cidr), strict=False)
        except ValueError:
            subnet = None  # the preflight role reports a malformed homelab_node_cidr itself
    ranges = []
    for entry in pool:
        try:
            start, end = parse_range(entry)
        except ValueError as exc:
            errors.append(f"{variable} entry {entry!r} is not a range or CIDR ({exc}). "
                          f"Fix: write first-last (192.168.1.200-192.168.1.210) or a CIDR (192.168.1.200/29).")
            continue
        ranges.append((start, end))
        if subnet is not None and (start not in subnet or end not in subnet):
            errors.append(f"{variable} entry {entry} is outside homelab_node_cidr={subnet}. "
                          f"Fix: choose free addresses inside {subnet}, where layer-2 (ARP) announcements "
                          f"reach the clients.")
        for host, address in sorted((nodes or {}).items()):
            try:
                ip = ipaddress.ip_address(str(address))
            except ValueError:
                continue  # the preflight role reports malformed node addresses
            if ip.version == start.version and int(start) <= int(ip) <= int(end):
                errors.append(f"{variable} entry {entry} contains {ip}, the node_ip of {host}. "
                              f"Fix: leave the node addresses out of the pool.")
    for index, (start, end) in enumerate(ranges):
        for other_start, other_end in ranges[index + 1:]:
            if start.version == other_start.version and int(start) <= int(other_end) and int(other_start) <= int(end):
                errors.append(f"{variable} ranges {start}-{end} and {other_start}-{other_end} overlap. "
                              f"Fix: list every address once.")
    return errors


def lb_ip_errors(address, pool, variable):
    """Check that a load-balancer address pinned through MetalLB lies inside the pool."""
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return [f"{variable}={address!r} is not an IP address. Fix: pick a free address of metallb_address_pool."]
    ranges = []
    for entry in pool or []:
        try:
            ranges.append(parse_range(entry))
        except ValueError:
            continue  # reported by metallb_pool_errors
    if not _contains(ranges, ip):
        shown = ", ".join(str(entry) for entry in pool or []) or "(empty)"
        return [f"{variable}={ip} is outside metallb_address_pool ({shown}), so MetalLB cannot assign it. "
                f"Fix: pick an address of the pool or widen the pool."]
    return []
