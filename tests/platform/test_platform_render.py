"""The platform layer as rendered by `make render` (build/lab, build/homelab): the settings the seed depends on
are really in the Helm values and manifests, and every file passes strict schema validation."""

from __future__ import annotations

import pytest
import yaml

from conftest import ENVIRONMENTS, ROOT, build_dir
from platform_helpers import find, make_validator, manifests, platform_files, validate_tree, values

INVENTORY = {env: yaml.safe_load((ROOT / "inventory" / env / "group_vars" / "all" / "main.yml").read_text())
             for env in ENVIRONMENTS}


@pytest.fixture(scope="module")
def validator(crd_location):
    return make_validator(crd_location)


@pytest.fixture(params=ENVIRONMENTS)
def env(request):
    return request.param


@pytest.fixture
def build(env):
    return build_dir(env)


def test_every_platform_file_is_schema_valid(validator, build):
    count, failures = validate_tree(validator, build)
    assert not failures, "\n".join(failures)
    # values of 7 charts; manifests: metallb 3 (namespace, pool, L2), istio 7 (namespace, 2 PeerAuthentications,
    # gateway, 3 routes), longhorn 2 (namespace, RecurringJob); cert-manager is off in both inventories.
    assert count == 7 + 12, platform_files(build)


def test_cilium_tunnels_in_vxlan_with_hubble_relay_and_keeps_kube_proxy(build):
    cilium = values(build, "cilium")
    assert cilium["routingMode"] == "tunnel"
    assert cilium["tunnelProtocol"] == "vxlan"
    assert cilium["ipam"] == {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"], "clusterPoolIPv4MaskSize": 24}}
    assert cilium["kubeProxyReplacement"] == "false"
    assert "k8sServiceHost" not in cilium
    assert cilium["hubble"]["enabled"] is True
    assert cilium["hubble"]["relay"]["enabled"] is True
    assert cilium["hubble"]["ui"]["enabled"] is False
    # min(2, three nodes)
    assert cilium["operator"]["replicas"] == 2


def test_metallb_pool_is_the_inventory_range_announced_in_layer2(env, build):
    documents = manifests(build, "metallb")
    pool = find(documents, "IPAddressPool", "default-pool", "metallb-system")
    assert pool["spec"]["addresses"] == INVENTORY[env]["metallb_address_pool"]
    expected = {"lab": ["172.30.10.200-172.30.10.210"], "homelab": ["192.168.1.200-192.168.1.210"]}[env]
    assert pool["spec"]["addresses"] == expected
    advert = find(documents, "L2Advertisement", "default-pool", "metallb-system")
    assert advert["spec"]["ipAddressPools"] == ["default-pool"]
    namespace = find(documents, "Namespace", "metallb-system")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert values(build, "metallb")["speaker"]["frr"]["enabled"] is False


def test_istio_gateway_is_a_loadbalancer_pinned_by_the_metallb_annotation(env, build):
    gateway = values(build, "istio-ingressgateway")
    assert gateway["service"]["type"] == "LoadBalancer"
    assert gateway["service"]["annotations"] == {
        "metallb.universe.tf/loadBalancerIPs": INVENTORY[env]["istio_ingress_lb_ip"]}
    assert "loadBalancerIP" not in gateway["service"]
    assert gateway["labels"] == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    assert {p["port"] for p in gateway["service"]["ports"]} == {15021, 80, 443}
    assert gateway["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}


def test_istiod_and_sidecars_are_sized_as_in_the_seed(build):
    istiod = values(build, "istiod")
    assert istiod["pilot"]["resources"]["requests"] == {"cpu": "200m", "memory": "512Mi"}
    assert istiod["global"]["proxy"]["resources"] == {"requests": {"cpu": "10m", "memory": "40Mi"},
                                                      "limits": {"cpu": "200m", "memory": "128Mi"}}
    assert istiod["meshConfig"]["ingressSelector"] == "ingressgateway"
    assert values(build, "istio-base")["defaultRevision"] == "default"


def test_mtls_is_permissive_mesh_wide_and_in_blog_system(build):
    documents = manifests(build, "istio")
    assert find(documents, "PeerAuthentication", "default", "istio-system")["spec"]["mtls"]["mode"] == "PERMISSIVE"
    assert find(documents, "PeerAuthentication", "default", "blog-system")["spec"]["mtls"]["mode"] == "PERMISSIVE"
    assert find(documents, "Namespace", "blog-system")["metadata"]["labels"]["istio-injection"] == "enabled"


def test_blog_gateway_serves_the_domain_on_port_80_only(build):
    gateway = find(manifests(build, "istio"), "Gateway", "blog-gateway", "blog-system")
    assert gateway["spec"]["selector"] == {"istio": "ingressgateway"}
    assert [(s["port"]["number"], s["port"]["protocol"], s["hosts"]) for s in gateway["spec"]["servers"]] == [
        (80, "HTTP", ["*.jiminhome.shop"])]


def test_platform_uis_are_routed_through_the_blog_gateway(build):
    routes = {d["spec"]["hosts"][0]: d for d in manifests(build, "istio") if d["kind"] == "VirtualService"}
    expected = {"monitoring.jiminhome.shop": ("grafana.monitoring.svc.cluster.local", 80),
                "argocd.jiminhome.shop": ("argocd-server.argocd.svc.cluster.local", 80),
                "kiali.jiminhome.shop": ("kiali.istio-system.svc.cluster.local", 20001)}
    assert set(routes) == set(expected)  # no longhorn route: longhorn_ui_exposed is off
    for host, (service, port) in expected.items():
        spec = routes[host]["spec"]
        assert spec["gateways"] == ["blog-system/blog-gateway"]
        assert spec["http"][0]["route"][0]["destination"] == {"host": service, "port": {"number": port}}


def test_kiali_uses_token_login_and_the_monitoring_services(build):
    kiali = values(build, "kiali")
    assert kiali["auth"]["strategy"] == "token"
    services = kiali["external_services"]
    assert services["prometheus"]["url"] == "http://prometheus.monitoring.svc:9090"
    assert services["grafana"]["internal_url"] == "http://grafana.monitoring.svc:80"
    assert services["tracing"]["provider"] == "tempo"
    assert services["tracing"]["internal_url"] == "http://tempo.monitoring.svc:3200"
    assert kiali["deployment"]["ingress"]["enabled"] is False


def test_longhorn_keeps_three_replicas_as_the_default_storage_class(build):
    longhorn = values(build, "longhorn")
    assert longhorn["persistence"]["defaultClass"] is True
    assert longhorn["persistence"]["defaultClassReplicaCount"] == 3
    assert longhorn["defaultSettings"]["defaultReplicaCount"] == 3
    job = find(manifests(build, "longhorn"), "RecurringJob", "snapshot-daily", "longhorn-system")
    assert job["apiVersion"] == "longhorn.io/v1beta2"
    assert job["spec"]["task"] == "snapshot" and job["spec"]["groups"] == ["default"]
    assert len(job["spec"]["cron"].split()) == 5 and job["spec"]["retain"] == 7


def test_cert_manager_is_off_and_leaves_nothing(build):
    assert not (build / "values" / "cert-manager.yaml").exists()
    assert not list((build / "manifests" / "cert-manager").glob("*.yaml"))


def test_no_secret_reaches_platform_output(build):
    fake = [v for v in yaml.safe_load((ROOT / "tests" / "fixtures" / "fake-vault.yml").read_text()).values()]
    for relative in platform_files(build):
        text = (build / relative).read_text(encoding="utf-8")
        assert not [s for s in fake if s and s in text], relative
