"""module_utils/platform_net.py: the MetalLB pool and load-balancer address checks behind preflight."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.homelab.stack.plugins.module_utils import platform_net as net

NODES = {"k8s-cp": "192.168.1.187", "k8s-worker1": "192.168.1.188", "k8s-worker2": "192.168.1.189"}
SEED_POOL = ["192.168.1.200-192.168.1.210"]


def test_parse_range_accepts_ranges_and_cidrs():
    assert net.parse_range("192.168.1.200-192.168.1.210") == (
        ipaddress.ip_address("192.168.1.200"), ipaddress.ip_address("192.168.1.210"))
    assert net.parse_range("192.168.1.200/30") == (
        ipaddress.ip_address("192.168.1.200"), ipaddress.ip_address("192.168.1.203"))
    with pytest.raises(ValueError, match="comes before"):
        net.parse_range("192.168.1.210-192.168.1.200")
    with pytest.raises(ValueError):
        net.parse_range("192.168.1.300-192.168.1.310")
    with pytest.raises(ValueError, match="same IP version"):
        net.parse_range("192.168.1.1-fe80::1")


def test_seed_pool_is_valid_and_has_eleven_addresses():
    assert net.metallb_pool_errors(SEED_POOL, "192.168.1.0/24", NODES) == []
    assert net.pool_addresses_count(SEED_POOL) == 11
    assert net.pool_addresses_count(["10.0.0.0/30", "10.0.0.2-10.0.0.5"]) == 6


def test_pool_outside_the_node_subnet_is_named_with_the_fix():
    errors = net.metallb_pool_errors(["10.0.0.200-10.0.0.210"], "192.168.1.0/24", NODES)
    assert errors == ["metallb_address_pool entry 10.0.0.200-10.0.0.210 is outside homelab_node_cidr=192.168.1.0/24. "
                      "Fix: choose free addresses inside 192.168.1.0/24, where layer-2 (ARP) announcements reach "
                      "the clients."]
    # A range straddling the subnet's edge is outside too.
    assert len(net.metallb_pool_errors(["192.168.1.250-192.168.2.5"], "192.168.1.0/24", {})) == 1
    # Without a node subnet only the node addresses are checked.
    assert net.metallb_pool_errors(["10.0.0.200-10.0.0.210"], "", NODES) == []


def test_pool_containing_node_addresses_names_every_node():
    errors = net.metallb_pool_errors(["192.168.1.180-192.168.1.200"], "192.168.1.0/24", NODES)
    assert [e.split(", the node_ip of ")[1].split(".")[0] for e in errors] == ["k8s-cp", "k8s-worker1", "k8s-worker2"]
    assert net.metallb_pool_errors(["192.168.1.188/32"], "192.168.1.0/24", NODES) == [
        "metallb_address_pool entry 192.168.1.188/32 contains 192.168.1.188, the node_ip of k8s-worker1. "
        "Fix: leave the node addresses out of the pool."]


def test_overlapping_and_malformed_entries():
    errors = net.metallb_pool_errors(["192.168.1.200-192.168.1.205", "192.168.1.204/30"], "192.168.1.0/24", {})
    assert errors == ["metallb_address_pool ranges 192.168.1.200-192.168.1.205 and 192.168.1.204-192.168.1.207 "
                      "overlap. Fix: list every address once."]
    errors = net.metallb_pool_errors(["nonsense"], "192.168.1.0/24", {})
    assert len(errors) == 1 and errors[0].startswith("metallb_address_pool entry 'nonsense' is not a range or CIDR")
    assert net.metallb_pool_errors([], "192.168.1.0/24", {})[0].startswith("metallb_address_pool is empty")
    assert "is not a list" in net.metallb_pool_errors("192.168.1.200-192.168.1.210", "192.168.1.0/24", {})[0]


def test_lb_ip_must_lie_in_the_pool():
    assert net.lb_ip_errors("192.168.1.200", SEED_POOL, "istio_ingress_lb_ip") == []
    assert net.lb_ip_errors("192.168.1.210", SEED_POOL, "istio_ingress_lb_ip") == []
    assert net.lb_ip_errors("192.168.1.211", SEED_POOL, "istio_ingress_lb_ip") == [
        "istio_ingress_lb_ip=192.168.1.211 is outside metallb_address_pool (192.168.1.200-192.168.1.210), so MetalLB "
        "cannot assign it. Fix: pick an address of the pool or widen the pool."]
    assert net.lb_ip_errors("", SEED_POOL, "istio_ingress_lb_ip")[0].startswith(
        "istio_ingress_lb_ip='' is not an IP address")
