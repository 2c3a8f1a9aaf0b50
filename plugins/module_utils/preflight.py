# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Inventory-wide checks no single role can make. Pure functions: each returns a list of messages,
each message naming the variable, the value and the fix."""

from __future__ import annotations

import ipaddress
import json
import re

# Kubernetes node names are DNS-1123 subdomains: lowercase alphanumerics, '-' and '.', at most 253 characters.
_NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


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

    for host in workers:
        if host in control_plane:
            errors.append(f"{host} is in both kube_control_plane and kube_node. Fix: list each host in one of them "
                          "(kubeadm control-plane nodes already run workloads when untainted).")
    addresses = {}
    for host in sorted(nodes):
        if len(host) > 253 or not _NODE_NAME.match(host):
            errors.append(f"inventory host name {host!r} is not a valid Kubernetes node name (kubeadm registers "
                          "the node under it). Fix: rename the host with lowercase letters, digits, '-' and '.' only.")
        if nodes[host] in (None, ""):
            errors.append(f"hostvars['{host}'].node_ip is not set. Fix: give every k8s_cluster host node_ip, "
                          "its cluster address.")
            continue
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


def checksum_errors(checksums, version, names, variable="kube_packages_checksums"):
    """Check that `checksums[version][arch][name]` is a sha256 for every architecture listed and every name.

    checksums: {version: {arch: {name: sha256}}}; version: the version that will be installed; names: binaries.
    """
    errors = []
    if not isinstance(checksums, dict):
        return [f"{variable}={checksums!r} is not a mapping. Fix: write it as "
                f"{{{version}: {{amd64: {{{', '.join(n + ': <sha256>' for n in names)}}}}}}}."]
    per_arch = checksums.get(version)
    if not per_arch:
        known = ", ".join(sorted(str(v) for v in checksums)) or "none"
        return [f"kube_version={version} has no checksum in {variable} (versions with checksums: {known}), so the "
                f"air-gapped binaries could not be verified. Fix: add {variable}['{version}'] as "
                f"{{<arch>: {{{', '.join(n + ': <sha256>' for n in names)}}}}}, or choose a version listed there."]
    if not isinstance(per_arch, dict):
        return [f"{variable}['{version}']={per_arch!r} is not a mapping of architectures. "
                f"Fix: write it as {{amd64: {{{', '.join(n + ': <sha256>' for n in names)}}}}}."]
    for arch in sorted(per_arch):
        sums = per_arch[arch] if isinstance(per_arch[arch], dict) else {}
        for name in names:
            value = sums.get(name)
            if value is None or not _SHA256.match(str(value)):
                errors.append(f"{variable}['{version}']['{arch}']['{name}']={value!r} is not a sha256. "
                              f"Fix: set it to the 64-hex sha256 published for {name} {version} linux/{arch}.")
    return errors


def token_ttl_errors(ttl, min_ttl, ttl_variable="join_token_ttl", min_ttl_variable="join_token_min_ttl"):
    """Check bootstrap-token lifetimes the way homelab.stack.kubeadm_token reads them: both durations, and a
    token that outlives the reuse threshold (else every run would create a new token)."""
    from ansible_collections.homelab.stack.plugins.module_utils.kubeadm_token import TokenError, parse_duration

    errors, seconds = [], {}
    for variable, value in ((ttl_variable, ttl), (min_ttl_variable, min_ttl)):
        try:
            seconds[variable] = parse_duration(value, variable)
        except TokenError:
            errors.append(f"{variable}={value!r} is not a duration. Fix: write it like 1h, 10m, 1h30m or 90s.")
    if not errors and seconds[ttl_variable] and seconds[ttl_variable] <= seconds[min_ttl_variable]:
        errors.append(f"{ttl_variable}={ttl!r} is not longer than {min_ttl_variable}={min_ttl!r}, so every run "
                      f"would create a new token. Fix: make {ttl_variable} longer (defaults 1h and 10m).")
    return errors


# Versions tested together (docs/lifecycle.md, "Support matrix"). A row is added in the same change as the pins
# and the test run that prove it; until then preflight refuses the combination, upgrade.yml included.
SUPPORT_MATRIX = {
    "1.31": {"cilium": ("1.16",), "istio": ("1.24",)},
}
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def _minor(value):
    match = re.match(r"^v?(\d+)\.(\d+)(\.|$)", str(value or ""))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def version_errors(kube_version, cilium_version, istio_version, matrix=None):
    """Check kube_version's form and that Kubernetes, Cilium and Istio are a supported combination.

    An empty cilium_version or istio_version is one the inventory does not set: the role's own default pin
    applies, which is a supported row for the default kube_version (tests/unit/test_preflight_lifecycle_checks.py
    keeps it so), so only the Kubernetes minor is checked against it.
    """
    matrix = SUPPORT_MATRIX if matrix is None else matrix
    if not _RELEASE.match(str(kube_version or "")):
        return [f"kube_version={kube_version!r} is not a Kubernetes release. "
                "Fix: write it as v1.31.13 (v<major>.<minor>.<patch>, the version kubeadm installs)."]
    minor = _minor(kube_version)
    supported = "; ".join(f"Kubernetes {k} with Cilium {'/'.join(v['cilium'])} and Istio {'/'.join(v['istio'])}"
                          for k, v in sorted(matrix.items()))
    row = matrix.get(minor)
    if (row is None or (cilium_version and _minor(cilium_version) not in row["cilium"])
            or (istio_version and _minor(istio_version) not in row["istio"])):
        return [f"kube_version={kube_version} with cilium_version={cilium_version} and istio_version={istio_version} "
                f"is not a supported combination (supported: {supported}; docs/lifecycle.md). Fix: keep kube_version "
                f"on a supported minor, or move kube_version, cilium_version and istio_version together to a "
                f"supported row."]
    return []


def distinct_hosts(hosts, describe):
    """The first host of every group of hosts that describe() the same way, in the order given.

    describe(host) returns what a per-host check can see of that host (JSON-serialisable). A host it cannot
    describe (it raises, for example on an undefined variable) is kept on its own, so its checks still run
    and report the problem themselves.
    """
    seen = set()
    kept = []
    for host in hosts:
        try:
            key = json.dumps(describe(host), sort_keys=True, default=str)
        except Exception:  # any failure: this host is checked by itself
            key = None
        if key is None or key not in seen:
            kept.append(host)
            if key is not None:
                seen.add(key)
    return kept


def preflight_hosts(hosts, hostvars, groups, prefixes):
    """One host per distinct combination of groups and values of the variables named <prefix>_*."""
    pattern = re.compile("^(%s)_" % "|".join(re.escape(p) for p in prefixes))
    membership = {}
    for group, members in groups.items():
        for host in members:
            membership.setdefault(host, []).append(group)

    def describe(host):
        host_vars = hostvars[host]
        return {"groups": sorted(membership.get(host, [])),
                "vars": {name: host_vars[name] for name in sorted(host_vars) if pattern.match(name)}}

    return distinct_hosts(list(hosts), describe)


def argument_options(spec_files, entry_point="preflight"):
    """One argument spec for several roles: the options of entry_point in each parsed meta/argument_specs.yml,
    merged, without their top-level defaults.

    Validating it checks what the inventory and extra vars set (and that required inputs are set), the way each
    role's own validation would, in one task instead of one per role. Defaults are left out because the caller
    does not see the roles' defaults, and a default may be a template only its role resolves; the contract tests
    check every role's defaults against its spec instead. An option two roles declare is refused.
    """
    merged = {}
    for number, document in enumerate(spec_files):
        specs = (document or {}).get("argument_specs") or {}
        if entry_point not in specs:
            raise ValueError(f"argument spec file {number + 1}: no {entry_point!r} entry point "
                             f"(has {', '.join(sorted(specs)) or 'none'})")
        for name, option in (specs[entry_point].get("options") or {}).items():
            if name in merged:
                raise ValueError(f"option {name} is declared by two roles: give each role its own prefix")
            merged[name] = {key: value for key, value in (option or {}).items() if key != "default"}
    return merged
