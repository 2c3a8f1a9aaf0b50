"""kube-prometheus-stack values, the assembled Prometheus configuration and the Alertmanager configuration."""

from __future__ import annotations

import yaml

from obs_support import (env_dir, find, homelab_dir, manifests, no_webhook_dir, run,  # noqa: F401 (fixtures)
                         system_tool, values)

SECRET_DIR = "/etc/alertmanager/secrets/alertmanager-slack/"
# Fields of a kubernetes_sd_config (Prometheus 2.55) and its roles.
KUBERNETES_SD_FIELDS = {"api_server", "role", "kubeconfig_file", "namespaces", "selectors", "attach_metadata",
                        "basic_auth", "authorization", "oauth2", "follow_redirects", "enable_http2", "tls_config",
                        "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header"}
KUBERNETES_SD_ROLES = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}


def for_debian_promtool(scrape_configs, folder):
    """Debian builds promtool without Kubernetes discovery, so it rejects kubernetes_sd_configs outright.

    Each kubernetes_sd_configs is checked here against the upstream fields and roles, then swapped for an
    (empty) file_sd_configs so promtool still checks everything else of the job, relabelling included.
    """
    swapped = []
    for job in scrape_configs:
        job = dict(job)
        sd = job.pop("kubernetes_sd_configs", None)
        if sd is not None:
            for entry in sd:
                assert set(entry) <= KUBERNETES_SD_FIELDS, f"{job['job_name']}: unknown field in {entry}"
                assert entry.get("role") in KUBERNETES_SD_ROLES, f"{job['job_name']}: bad role in {entry}"
            targets = folder / f"{job['job_name']}.json"
            targets.write_text("[]", encoding="utf-8")
            job["file_sd_configs"] = [{"files": [str(targets)]}]
        swapped.append(job)
    return swapped


def prometheus_config(env_dir, folder):
    """prometheus.yml as the operator assembles it: globals, the rule files, the additional scrape configs."""
    spec = values(env_dir, "prometheus")["prometheus"]["prometheusSpec"]
    rule = find(manifests(env_dir, "prometheus"), "PrometheusRule", "homelab-alerts")
    (folder / "rules.yml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    config = {
        "global": {"scrape_interval": spec["scrapeInterval"], "evaluation_interval": spec["evaluationInterval"]},
        "rule_files": ["rules.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager.monitoring.svc:9093"]}]}]},
        "scrape_configs": spec["additionalScrapeConfigs"],
    }
    checked = dict(config, scrape_configs=for_debian_promtool(config["scrape_configs"], folder))
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(checked, sort_keys=False), encoding="utf-8")
    return path, config


def test_promtool_check_config(env_dir, tmp_path):
    path, _ = prometheus_config(env_dir, tmp_path)
    result = run([system_tool("promtool"), "check", "config", str(path)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout
    assert "is valid prometheus config file syntax" in result.stdout


def test_scrape_jobs_cover_the_seed_targets(env_dir, tmp_path):
    _, config = prometheus_config(env_dir, tmp_path)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"kubernetes-pods", "blackbox-http"}
    pods = jobs["kubernetes-pods"]
    assert pods["kubernetes_sd_configs"] == [{"role": "pod"}]
    keep = pods["relabel_configs"][0]
    assert keep["action"] == "keep" and keep["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    probe = jobs["blackbox-http"]
    assert probe["metrics_path"] == "/probe" and probe["params"] == {"module": ["http_2xx"]}
    assert probe["static_configs"][0]["targets"] == [
        "https://blog.jiminhome.shop", "http://argocd.jiminhome.shop", "http://kiali.jiminhome.shop"]
    assert probe["relabel_configs"][-1] == {"target_label": "__address__",
                                            "replacement": "blackbox-exporter.monitoring.svc:9115"}
    docs = manifests(env_dir, "prometheus")
    service = find(docs, "Service", "blackbox-exporter")
    assert service["spec"]["ports"][0]["port"] == 9115
    deployment = find(docs, "Deployment", "blackbox-exporter")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v0.25.0")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(pod_labels.get(k) == v for k, v in service["spec"]["selector"].items())
    modules = yaml.safe_load(find(docs, "ConfigMap", "blackbox-exporter")["data"]["blackbox.yml"])["modules"]
    assert modules["http_2xx"]["prober"] == "http"


def test_chart_values_follow_the_seed(env_dir):
    v = values(env_dir, "prometheus")
    spec = v["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d" and spec["scrapeInterval"] == "15s"
    assert spec["image"]["tag"].startswith("v2.55.")
    assert spec["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "2Gi"}}
    assert spec["enableRemoteWriteReceiver"] is True, "Alloy remote-writes node metrics"
    for key in ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"):
        assert spec[f"{key}SelectorNilUsesHelmValues"] is False, f"{key}s of other releases must be selected"
    am = v["alertmanager"]["alertmanagerSpec"]
    assert am["image"]["tag"].startswith("v0.27.")
    assert am["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
    ksm = v["kube-state-metrics"]
    assert ksm["prometheus"]["monitor"]["interval"] == "30s" and ksm["image"]["tag"].startswith("v2.14.")
    assert v["nodeExporter"]["enabled"] is False, "Alloy's prometheus.exporter.unix replaces node-exporter"
    assert v["grafana"]["enabled"] is False, "the grafana role installs Grafana"
    assert v["kubelet"]["enabled"] is True and v["kubelet"]["serviceMonitor"]["cAdvisor"] is True


def test_stable_service_names(env_dir):
    docs = manifests(env_dir, "prometheus")
    prometheus = find(docs, "Service", "prometheus")
    assert prometheus["metadata"]["namespace"] == "monitoring"
    assert [(p["port"], p.get("nodePort")) for p in prometheus["spec"]["ports"]] == [(9090, 30090)]
    assert prometheus["spec"]["selector"]["app.kubernetes.io/name"] == "prometheus"
    alertmanager = find(docs, "Service", "alertmanager")
    assert [p["port"] for p in alertmanager["spec"]["ports"]] == [9093]
    assert alertmanager["spec"]["selector"]["app.kubernetes.io/name"] == "alertmanager"
    # The operator names the pods' instance label after the Prometheus/Alertmanager resources (fullnameOverride).
    assert values(env_dir, "prometheus")["fullnameOverride"] == "kube-prometheus"
    assert prometheus["spec"]["selector"]["app.kubernetes.io/instance"] == "kube-prometheus-prometheus"
    assert alertmanager["spec"]["selector"]["app.kubernetes.io/instance"] == "kube-prometheus-alertmanager"


def alertmanager_config(env_dir, folder):
    config = values(env_dir, "prometheus")["alertmanager"]["config"]
    path = folder / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path, config


def route(amtool, path, *labels):
    result = run([amtool, "config", "routes", "test", f"--config.file={path}", *labels])
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_alertmanager_with_webhook_routes_by_severity_to_slack(homelab_dir, tmp_path):
    amtool = system_tool("amtool")
    path, config = alertmanager_config(homelab_dir, tmp_path)
    result = run([amtool, "check-config", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert route(amtool, path, "alertname=PodDown", "severity=critical") == "critical"
    assert route(amtool, path, "alertname=HighMemoryUsage", "severity=warning") == "warning"
    assert route(amtool, path, "alertname=Watchdog", "severity=none") == "null"
    receivers = {r["name"]: r for r in config["receivers"]}
    for name in ("critical", "warning"):
        slack = receivers[name]["slack_configs"][0]
        assert slack["api_url_file"].startswith(SECRET_DIR) and "api_url" not in slack
    spec = values(homelab_dir, "prometheus")["alertmanager"]["alertmanagerSpec"]
    assert spec["secrets"] == ["alertmanager-slack"]
    secret = find(manifests(homelab_dir, "prometheus"), "Secret", "alertmanager-slack")
    key = receivers["critical"]["slack_configs"][0]["api_url_file"][len(SECRET_DIR):]
    assert list(secret["stringData"]) == [key]


def test_alertmanager_without_webhook_has_no_slack(no_webhook_dir, tmp_path):
    amtool = system_tool("amtool")
    path, config = alertmanager_config(no_webhook_dir, tmp_path)
    result = run([amtool, "check-config", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert route(amtool, path, "severity=critical") == "critical"
    assert all("slack_configs" not in r for r in config["receivers"])
    assert "secrets" not in values(no_webhook_dir, "prometheus")["alertmanager"]["alertmanagerSpec"]
    assert not (no_webhook_dir / "manifests" / "prometheus" / "alertmanager-slack-secret.yaml").exists()
    assert [d for d in manifests(no_webhook_dir, "prometheus") if d["kind"] == "Secret"] == []
