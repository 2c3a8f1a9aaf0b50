"""Grafana: datasources with fixed uids and links, the four dashboards, admin credentials from a Secret."""

from __future__ import annotations

import json
import re

import promql_parser
import pytest

from obs_support import ROOT, env_dir, find, manifests, values  # noqa: F401 (env_dir is a fixture)

DASHBOARDS = ROOT / "roles" / "grafana" / "files" / "dashboards"
SEED_TITLES = {"System Health Overview", "Nginx Dashboard", "MySQL Dashboard", "WAS Dashboard"}
# Grafana variables replaced by sample values before parsing: PromQL has no $variables.
VARIABLES = {r"\$__rate_interval": "5m", r"\$__interval": "1m", r"\$__range": "1h",
             r"\$namespace": "blog-system", r"\$application": "board-was"}
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<expr>.+),\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)$")


def dashboard_files():
    files = sorted(DASHBOARDS.glob("*.json"))
    assert len(files) == 4, f"expected the seed's four dashboards in {DASHBOARDS}, found {[f.name for f in files]}"
    return files


def provisioned(env_dir):
    return {d["uid"]: d for d in values(env_dir, "grafana")["datasources"]["datasources.yaml"]["datasources"]}


def panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def promql(expr):
    for pattern, sample in VARIABLES.items():
        expr = re.sub(pattern, sample, expr)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return promql_parser.parse(expr)


def test_datasources_have_fixed_uids_and_trace_log_links(env_dir):
    sources = provisioned(env_dir)
    assert {uid: s["type"] for uid, s in sources.items()} == {
        "prometheus": "prometheus", "alertmanager": "alertmanager", "loki": "loki", "tempo": "tempo"}
    assert sources["prometheus"]["url"] == "http://prometheus.monitoring.svc:9090"
    assert sources["loki"]["url"] == "http://loki-stack.monitoring.svc:3100"
    assert sources["tempo"]["url"] == "http://tempo.monitoring.svc:3200"
    derived = sources["loki"]["jsonData"]["derivedFields"][0]
    assert derived["datasourceUid"] == "tempo" and re.compile(derived["matcherRegex"]).search(
        'level=INFO trace_id=4bf92f3577b34da6a3ce929d0e0e4736 msg="GET /api/posts"').group(1) == \
        "4bf92f3577b34da6a3ce929d0e0e4736"
    tempo = sources["tempo"]["jsonData"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert tempo["serviceMap"]["datasourceUid"] == "prometheus"
    assert sources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"


def test_dashboard_files_are_valid_with_unique_uids():
    uids, titles = [], set()
    for path in dashboard_files():
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        uids.append(dashboard["uid"])
        titles.add(dashboard["title"])
        ids = [p["id"] for p in panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    assert len(uids) == len(set(uids)), f"dashboard uids repeat: {uids}"
    assert titles == SEED_TITLES


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.stem)
def test_every_panel_uses_a_provisioned_datasource_and_valid_queries(path, env_dir):
    sources = provisioned(env_dir)
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    queries = 0
    for panel in panels(dashboard):
        where = f"{path.name} panel {panel['id']} ({panel['title']})"
        assert panel["datasource"]["uid"] in sources, f"{where}: datasource {panel['datasource']} not provisioned"
        assert panel["datasource"]["type"] == sources[panel["datasource"]["uid"]]["type"], where
        assert panel["targets"], f"{where}: no query"
        for target in panel["targets"]:
            ds = target.get("datasource", panel["datasource"])
            assert ds["uid"] in sources, f"{where}: target datasource {ds} not provisioned"
            if sources[ds["uid"]]["type"] == "prometheus":
                promql(target["expr"])
                queries += 1
            elif sources[ds["uid"]]["type"] == "loki":
                assert re.match(r'^\{[a-z_]+=~?"[^"]*"(, *[a-z_]+=~?"[^"]*")*\}', target["expr"]), \
                    f"{where}: LogQL must start with a stream selector: {target['expr']}"
    for variable in dashboard["templating"]["list"]:
        assert variable["datasource"]["uid"] in sources
        match = LABEL_VALUES.match(variable["query"]["query"])
        assert match, f"{path.name}: variable {variable['name']} is not label_values(...)"
        if match.group("expr"):
            promql(match.group("expr"))
    assert queries >= 5, f"{path.name}: only {queries} PromQL queries"


def test_promql_check_really_rejects_bad_queries():
    with pytest.raises(ValueError):
        promql('sum(rate(nginx_http_requests_total{namespace=~"$namespace"}[$__rate_interval])')


def test_dashboards_are_provisioned_from_configmaps(env_dir):
    docs = manifests(env_dir, "grafana")
    maps = [d for d in docs if d["kind"] == "ConfigMap"]
    assert len(maps) == 4
    sidecar = values(env_dir, "grafana")["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    rendered = {}
    for cm in maps:
        assert cm["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
        (name, text), = cm["data"].items()
        rendered[name] = json.loads(text)
    assert rendered == {p.name: json.loads(p.read_text(encoding="utf-8")) for p in dashboard_files()}


def test_admin_password_only_through_existing_secret(env_dir):
    v = values(env_dir, "grafana")
    assert v["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    assert "adminPassword" not in v and "adminUser" not in v
    secret = find(manifests(env_dir, "grafana"), "Secret", "grafana-admin")
    assert set(secret["stringData"]) == {"admin-user", "admin-password"}
    assert secret["stringData"]["admin-password"] != "admin"
    assert v["image"]["tag"].startswith("11.4.")
    assert v["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}
    assert v["fullnameOverride"] == "grafana" and v["service"]["port"] == 80
