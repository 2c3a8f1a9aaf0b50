"""Loki, Tempo and the Alloy agent: seed figures, service names, and the Alloy pipeline wired end to end."""

from __future__ import annotations

import pytest

import river
from obs_support import env_dir, find, manifests, values  # noqa: F401 (env_dir is a fixture)

EXPORTS = {"targets", "output", "receiver", "input"}


def alloy_config(env_dir):
    v = values(env_dir, "alloy")["alloy"]["configMap"]
    assert v["create"] is False
    cm = find(manifests(env_dir, "alloy"), "ConfigMap", v["name"])
    return river.parse(cm["data"][v["key"]])


def test_loki_single_binary_with_seven_day_retention(env_dir):
    v = values(env_dir, "loki")
    assert v["deploymentMode"] == "SingleBinary" and v["fullnameOverride"] == "loki-stack"
    assert v["singleBinary"]["replicas"] == 1
    assert all(v[part]["replicas"] == 0 for part in ("read", "write", "backend"))
    loki = v["loki"]
    assert loki["image"]["tag"].startswith("3.3.")
    assert loki["limits_config"]["retention_period"] == "168h"
    assert loki["compactor"]["retention_enabled"] is True and loki["compactor"]["delete_request_store"] == "filesystem"
    assert loki["storage"]["type"] == "filesystem" and loki["schemaConfig"]["configs"][0]["schema"] == "v13"
    assert v["singleBinary"]["persistence"]["enabled"] is False, "the seed's emptyDir (loki_storage_size unset)"
    assert v["singleBinary"]["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"},
                                              "limits": {"cpu": "500m", "memory": "1Gi"}}


def test_tempo_retention_receivers_and_service(env_dir):
    v = values(env_dir, "tempo")
    tempo = v["tempo"]
    assert tempo["tag"].startswith("2.7.") and tempo["retention"] == "48h"
    assert tempo["receivers"]["otlp"]["protocols"] == {"grpc": {"endpoint": "0.0.0.0:4317"},
                                                       "http": {"endpoint": "0.0.0.0:4318"}}
    assert tempo["resources"] == {"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"cpu": "1000m", "memory": "2Gi"}}
    service = find(manifests(env_dir, "tempo"), "Service", "tempo")
    assert service["metadata"]["namespace"] == "monitoring"
    assert {p["port"]: p["targetPort"] for p in service["spec"]["ports"]} == {3200: 3100, 4317: 4317, 4318: 4318}
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "tempo", "app.kubernetes.io/instance": "tempo"}
    assert v["fullnameOverride"] != "tempo", "the chart's Service must not take the name of the stable Service"


def test_alloy_daemonset_values(env_dir):
    v = values(env_dir, "alloy")
    assert v["controller"]["type"] == "daemonset" and v["image"]["tag"].startswith("v1.5.")
    assert v["alloy"]["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"},
                                       "limits": {"cpu": "200m", "memory": "512Mi"}}
    assert v["alloy"]["mounts"]["varlog"] is True
    mounts = {m["mountPath"]: m["name"] for m in v["alloy"]["mounts"]["extra"]}
    volumes = {vol["name"]: vol["hostPath"]["path"] for vol in v["controller"]["volumes"]["extra"]}
    assert {path: volumes[name] for path, name in mounts.items()} == {
        "/host/proc": "/proc", "/host/sys": "/sys", "/host/root": "/"}
    assert {p["port"] for p in v["alloy"]["extraPorts"]} == {4317, 4318}
    assert {e["name"] for e in v["alloy"]["extraEnv"]} == {"NODE_NAME"}


def test_alloy_config_is_wired_end_to_end(env_dir):
    blocks = alloy_config(env_dir)
    comps = river.components(blocks)
    assert set(comps) == {
        "discovery.kubernetes.pods", "discovery.relabel.pod_logs", "local.file_match.pod_logs",
        "loki.source.file.pod_logs", "loki.process.pod_logs", "loki.write.default",
        "prometheus.exporter.unix.node", "discovery.relabel.node", "prometheus.scrape.node",
        "prometheus.remote_write.default",
        "otelcol.receiver.otlp.default", "otelcol.processor.k8sattributes.default", "otelcol.processor.batch.default",
        "otelcol.exporter.otlp.tempo"}
    used = set()
    for component_id, block in comps.items():
        for ref in river.references(block):
            target, _, export = ref.rpartition(".")
            assert export in EXPORTS and target in comps, f"{component_id} refers to undefined {ref}"
            used.add(target)
    # Nothing is left dangling: only the three pipeline drivers (they pull targets or receive data and push on)
    # are referenced by no other component; every other component is used, the three sinks included.
    drivers = {"loki.source.file.pod_logs", "prometheus.scrape.node", "otelcol.receiver.otlp.default"}
    assert set(comps) - used == drivers
    assert {"loki.write.default", "prometheus.remote_write.default", "otelcol.exporter.otlp.tempo"} <= used


def test_alloy_sends_to_the_stable_services(env_dir):
    comps = river.components(alloy_config(env_dir))
    pods = comps["discovery.kubernetes.pods"]
    assert pods.attrs["role"] == "pod"
    assert pods.block("namespaces").attrs["names"] == ["blog-system", "argocd", "monitoring"]
    assert "spec.nodeName=" in pods.block("selectors").attrs["field"].text, "each pod reads only its node's logs"
    assert comps["loki.write.default"].block("endpoint").attrs["url"] == \
        "http://loki-stack.monitoring.svc:3100/loki/api/v1/push"
    assert comps["prometheus.remote_write.default"].block("endpoint").attrs["url"] == \
        "http://prometheus.monitoring.svc:9090/api/v1/write"
    assert comps["otelcol.exporter.otlp.tempo"].block("client").attrs["endpoint"] == "tempo.monitoring.svc:4317"
    receiver = comps["otelcol.receiver.otlp.default"]
    assert receiver.block("grpc").attrs["endpoint"] == "0.0.0.0:4317"
    assert receiver.block("http").attrs["endpoint"] == "0.0.0.0:4318"
    unix = comps["prometheus.exporter.unix.node"].attrs
    assert (unix["procfs_path"], unix["sysfs_path"], unix["rootfs_path"]) == ("/host/proc", "/host/sys", "/host/root")
    # The receiving ends exist: Loki's chart Service, the prometheus role's Service (remote write on) and Tempo's.
    assert values(env_dir, "loki")["fullnameOverride"] == "loki-stack"
    assert find(manifests(env_dir, "prometheus"), "Service", "prometheus")["spec"]["ports"][0]["port"] == 9090
    assert values(env_dir, "prometheus")["prometheus"]["prometheusSpec"]["enableRemoteWriteReceiver"] is True
    assert 4317 in [p["port"] for p in find(manifests(env_dir, "tempo"), "Service", "tempo")["spec"]["ports"]]


@pytest.mark.parametrize("broken", ['loki.write "default" {\n  endpoint {\n    url = "x"\n  }\n',
                                    'loki.write "default" {\n  url = "unterminated\n}\n',
                                    '"label" {\n}\n'])
def test_river_reader_rejects_broken_syntax(broken):
    with pytest.raises(river.RiverError):
        river.parse(broken)
