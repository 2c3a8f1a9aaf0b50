"""The seed's figures, read back from the rendered GitOps repository and the ArgoCD/Argo Rollouts output."""

from __future__ import annotations

import re

import pytest
import yaml

from app_helpers import ENVIRONMENTS, container, find, gitops_docs, load_yaml_docs, pod_spec
from conftest import build_dir

SEED_STEPS = {"web": ([10, 50, 90], "30s"), "was": ([20, 50, 80], "1m")}


def quantity(value) -> float:
    """CPU in cores or memory in bytes from a Kubernetes quantity."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def resources(requests_cpu, requests_memory, limits_cpu, limits_memory):
    return {"requests": {"cpu": requests_cpu, "memory": requests_memory},
            "limits": {"cpu": limits_cpu, "memory": limits_memory}}


@pytest.fixture(params=ENVIRONMENTS)
def docs(request):
    return gitops_docs(request.param)


@pytest.fixture(params=ENVIRONMENTS)
def build(request):
    return build_dir(request.param)


# -- WEB ----------------------------------------------------------------------------------------------------------
def test_web_rollout(docs):
    rollout = find(docs, "Rollout", "web")
    assert rollout["spec"]["replicas"] == 2
    web = container(rollout, "web")
    assert web["image"] == "ghcr.io/wlals2/blog-web:v84"
    assert web["resources"] == resources("100m", "128Mi", "200m", "256Mi")
    assert web["ports"] == [{"name": "http", "containerPort": 80}]
    for probe in ("livenessProbe", "readinessProbe"):
        assert web[probe]["httpGet"] == {"path": "/health", "port": "http"}
    exporter = container(rollout, "nginx-exporter")
    assert exporter["ports"] == [{"name": "metrics", "containerPort": 9113}]
    assert any(a.startswith("--nginx.scrape-uri=http://127.0.0.1:") and a.endswith("/stub_status")
               for a in exporter["args"])
    spec = pod_spec(rollout)
    assert spec["serviceAccountName"] == "web"
    assert spec["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"


def test_web_nginx_config(docs):
    config = find(docs, "ConfigMap", "web-nginx-config")["data"]["default.conf"]
    assert "root /var/www/blog;" in config
    assert re.search(r"location /api \{[^}]*proxy_pass http://was-service:8080;", config)
    assert re.search(r"location = /health \{[^}]*return 200", config)
    # stub_status answers on the loopback only, the port the exporter scrapes.
    port = re.search(r"listen 127\.0\.0\.1:(\d+);[^}]*location = /stub_status \{\s*stub_status;", config)
    assert port, "stub_status must listen on 127.0.0.1 only"
    exporter = container(find(docs, "Rollout", "web"), "nginx-exporter")
    assert f"--nginx.scrape-uri=http://127.0.0.1:{port.group(1)}/stub_status" in exporter["args"]
    rollout_volumes = pod_spec(find(docs, "Rollout", "web"))["volumes"]
    assert {"name": "nginx-config", "configMap": {"name": "web-nginx-config"}} in rollout_volumes


def test_web_service_and_monitor(docs):
    service = find(docs, "Service", "web-service")
    assert service["spec"]["ports"][0]["port"] == 80 and service["spec"]["selector"] == {"app": "web"}
    monitor = find(docs, "PodMonitor", "web-nginx-exporter")
    assert monitor["spec"]["selector"]["matchLabels"] == {"app": "web"}
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


# -- WAS ----------------------------------------------------------------------------------------------------------
def test_was_rollout(docs):
    rollout = find(docs, "Rollout", "was")
    assert rollout["spec"]["replicas"] == 2
    was = container(rollout, "was")
    assert was["image"] == "ghcr.io/wlals2/board-was:v19"
    assert was["resources"] == resources("250m", "512Mi", "500m", "1Gi")
    startup = was["startupProbe"]
    assert startup["httpGet"]["path"] == "/actuator/health"
    assert startup["failureThreshold"] * startup["periodSeconds"] == 210
    for probe in ("livenessProbe", "readinessProbe"):
        assert was[probe]["httpGet"]["path"] == "/actuator/health"
    spec = pod_spec(rollout)
    assert spec["serviceAccountName"] == "was"
    assert spec["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"


def test_was_opentelemetry_and_datasource(docs):
    rollout = find(docs, "Rollout", "was")
    init = container(rollout, "otel-agent-download")
    assert init["image"] == "curlimages/curl:8.5.0"
    url = init["command"][-1]
    assert url.endswith("/v1.32.0/opentelemetry-javaagent.jar") and url.startswith("https://github.com/")
    assert "/otel/opentelemetry-javaagent.jar" in init["command"]
    assert {"name": "otel-agent", "emptyDir": {}} in pod_spec(rollout)["volumes"]
    env = {e["name"]: e for e in container(rollout, "was")["env"]}
    assert env["JAVA_TOOL_OPTIONS"]["value"] == "-javaagent:/otel/opentelemetry-javaagent.jar"
    assert env["OTEL_SERVICE_NAME"]["value"] == "board-was"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://tempo.monitoring.svc.cluster.local:4317"
    assert env["OTEL_TRACES_SAMPLER"]["value"] == "always_on"
    assert env["SPRING_DATASOURCE_URL"]["valueFrom"]["configMapKeyRef"]["name"] == "was-config"
    assert env["SPRING_DATASOURCE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "mysql-secret",
                                                                               "key": "MYSQL_PASSWORD"}
    config = find(docs, "ConfigMap", "was-config")["data"]
    assert config["SPRING_DATASOURCE_URL"] == "jdbc:mysql://mysql-service:3306/boarddb"
    assert config["SPRING_DATASOURCE_USERNAME"] == "board"


def test_was_service(docs):
    service = find(docs, "Service", "was-service")
    assert service["spec"]["ports"][0]["port"] == 8080 and service["spec"]["selector"] == {"app": "was"}


# -- canaries -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["web", "was"])
def test_canary_steps(docs, name):
    canary = find(docs, "Rollout", name)["spec"]["strategy"]["canary"]
    weights, pause = SEED_STEPS[name]
    steps = canary["steps"]
    weighted = [i for i, step in enumerate(steps) if "setWeight" in step]
    assert [steps[i]["setWeight"] for i in weighted] == weights
    assert all(steps[i + 1] == {"pause": {"duration": pause}} for i in weighted)
    assert canary["dynamicStableScale"] is True
    istio = canary["trafficRouting"]["istio"]
    assert istio["virtualService"] == {"name": f"{name}-vsvc", "routes": ["primary"]}
    assert istio["destinationRule"] == {"name": f"{name}-dest-rule", "stableSubsetName": "stable",
                                        "canarySubsetName": "canary"}


def test_web_canary_header_and_mirror_routes_are_managed(docs):
    canary = find(docs, "Rollout", "web")["spec"]["strategy"]["canary"]
    assert canary["trafficRouting"]["managedRoutes"] == [{"name": "canary-header"}, {"name": "mirror-stable"}]
    steps = canary["steps"]
    header = [s["setHeaderRoute"] for s in steps if "setHeaderRoute" in s]
    assert header[0]["match"] == [{"headerName": "x-canary-test", "headerValue": {"exact": "true"}}]
    assert header[-1] == {"name": "canary-header"}, "the header route is removed before the promotion"
    mirror = [s["setMirrorRoute"] for s in steps if "setMirrorRoute" in s]
    assert mirror[0]["percentage"] == 100
    assert {m["method"]["exact"] for m in mirror[0]["match"]} == {"GET", "HEAD"}, "mirror reads only"
    assert mirror[-1] == {"name": "mirror-stable"}
    first_weight = next(i for i, s in enumerate(steps) if "setWeight" in s)
    assert {"setHeaderRoute", "setMirrorRoute"} == {next(iter(s)) for s in steps[:first_weight]}


# -- autoscaling and disruption budgets -----------------------------------------------------------------------
@pytest.mark.parametrize("name, low, high, cpu", [("web", 2, 5, 60), ("was", 2, 10, 70)])
def test_hpa(docs, name, low, high, cpu):
    spec = find(docs, "HorizontalPodAutoscaler", f"{name}-hpa")["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (low, high)
    metric = spec["metrics"][0]["containerResource"]
    assert (metric["name"], metric["container"], metric["target"]["averageUtilization"]) == ("cpu", name, cpu)
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 60
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


@pytest.mark.parametrize("name, low, high", [("web", ("50m", "64Mi"), ("500m", "512Mi")),
                                             ("was", ("100m", "256Mi"), ("1000m", "2Gi"))])
def test_vpa_recommends_only(docs, name, low, high):
    spec = find(docs, "VerticalPodAutoscaler", f"{name}-vpa")["spec"]
    assert spec["targetRef"] == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name}
    assert spec["updatePolicy"]["updateMode"] == "Off"
    policy = spec["resourcePolicy"]["containerPolicies"][0]
    assert policy["containerName"] == name
    assert (policy["minAllowed"]["cpu"], policy["minAllowed"]["memory"]) == low
    assert (policy["maxAllowed"]["cpu"], policy["maxAllowed"]["memory"]) == high


def test_pdbs(docs):
    assert find(docs, "PodDisruptionBudget", "web-pdb")["spec"]["minAvailable"] == 1
    assert find(docs, "PodDisruptionBudget", "was-pdb")["spec"]["minAvailable"] == 1
    mysql = find(docs, "PodDisruptionBudget", "mysql-pdb")["spec"]
    assert mysql["maxUnavailable"] == 1 and "minAvailable" not in mysql


# -- MySQL, exporter, backup ----------------------------------------------------------------------------------
def test_mysql(docs):
    deployment = find(docs, "Deployment", "mysql")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
    mysql = container(deployment, "mysql")
    assert mysql["image"] == "mysql:8.0"
    assert mysql["resources"] == resources("250m", "512Mi", "500m", "1Gi")
    env = {e["name"]: e.get("value") for e in mysql["env"]}
    assert env["MYSQL_DATABASE"] == "boarddb" and env["MYSQL_USER"] == "board"
    assert env["MYSQL_ROOT_PASSWORD_FILE"].startswith("/run/secrets/mysql/")
    secret_volume = next(v for v in pod_spec(deployment)["volumes"] if "secret" in v)
    assert secret_volume["secret"]["secretName"] == "mysql-secret"
    claim = next(v for v in pod_spec(deployment)["volumes"] if "persistentVolumeClaim" in v)
    assert claim["persistentVolumeClaim"]["claimName"] == "mysql-pvc"
    pvc = find(docs, "PersistentVolumeClaim", "mysql-pvc")["spec"]
    assert pvc == {"accessModes": ["ReadWriteOnce"], "storageClassName": "longhorn",
                   "resources": {"requests": {"storage": "10Gi"}}}
    service = find(docs, "Service", "mysql-service")["spec"]
    assert service["ports"][0]["port"] == 3306 and service["selector"] == {"app": "mysql"}


def test_mysql_exporter(docs):
    deployment = find(docs, "Deployment", "mysql-exporter")
    assert deployment["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
    exporter = container(deployment, "mysql-exporter")
    assert exporter["image"] == "prom/mysqld-exporter:v0.16.0"
    assert exporter["resources"] == resources("50m", "64Mi", "200m", "256Mi")
    collectors = {a.removeprefix("--collect.") for a in exporter["args"] if a.startswith("--collect.")}
    assert collectors == {"info_schema.tables", "info_schema.query_response_time", "info_schema.innodb_metrics",
                          "perf_schema.tableiowaits", "perf_schema.indexiowaits"}
    config = next(v for v in pod_spec(deployment)["volumes"] if v["name"] == "config")
    assert config["secret"]["secretName"] == "mysql-exporter-config", ".my.cnf comes from a Secret"
    monitor = find(docs, "ServiceMonitor", "mysql-exporter")["spec"]
    service = find(docs, "Service", "mysql-exporter")["spec"]
    assert monitor["selector"]["matchLabels"] == service["selector"] == {"app": "mysql-exporter"}
    assert service["ports"][0]["port"] == 9104 and monitor["endpoints"][0]["port"] == service["ports"][0]["name"]


def test_backup_cronjob(docs):
    cronjob = find(docs, "CronJob", "mysql-backup")
    # 03:00 KST is 18:00 UTC; without timeZone the schedule is read in UTC (kube-controller-manager's zone).
    assert cronjob["spec"]["schedule"] == "0 18 * * *"
    assert cronjob["spec"].get("timeZone", "Etc/UTC") in ("Etc/UTC", "UTC")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    dump = container(cronjob, "mysqldump")
    upload = container(cronjob, "s3-upload")
    assert dump in pod_spec(cronjob)["initContainers"]
    assert dump["image"] == "mysql:8.0" and upload["image"] == "amazon/aws-cli:2.15.0"
    script = dump["args"][0]
    assert re.search(r"mysqldump .*\| gzip", script.replace("\\\n", " "))
    assert 'file="/backup/mysql-backup-$(date -u +%Y%m%d-%H%M%S).sql.gz"' in script
    assert '--user="$MYSQL_USER"' in script
    assert {e["name"]: e.get("value") for e in dump["env"]}["MYSQL_USER"] == "board"
    assert 's3://$BUCKET/' in upload["args"][0]
    assert {e["name"]: e.get("value") for e in upload["env"]}["BUCKET"] == "jimin-mysql-backup"
    secrets = {v["secret"]["secretName"] for v in pod_spec(cronjob)["volumes"] if "secret" in v}
    assert secrets == {"mysql-secret", "aws-s3-credentials"}
    assert dump["resources"] == resources("100m", "256Mi", "500m", "512Mi")
    assert upload["resources"] == resources("50m", "128Mi", "200m", "256Mi")


# -- Istio ----------------------------------------------------------------------------------------------------
def test_web_virtual_service(docs):
    http = find(docs, "VirtualService", "web-vsvc")["spec"]["http"]
    assert [r["name"] for r in http] == ["canary-header", "primary"]
    header, primary = http
    assert header["match"] == [{"headers": {"x-canary-test": {"exact": "true"}}}]
    assert header["route"] == [{"destination": {"host": "web-service", "subset": "canary"}, "weight": 100}]
    assert [(r["destination"]["subset"], r["weight"]) for r in primary["route"]] == [("stable", 100), ("canary", 0)]
    assert primary["retries"] == {"attempts": 3, "perTryTimeout": "2s",
                                  "retryOn": "5xx,reset,connect-failure,refused-stream"}
    assert primary["timeout"] == "10s"


def test_was_virtual_service(docs):
    http = find(docs, "VirtualService", "was-vsvc")["spec"]["http"]
    assert [r["name"] for r in http] == ["primary"]
    assert http[0]["retries"]["attempts"] == 3 and http[0]["timeout"] == "30s"
    # POST/PUT/DELETE are not idempotent: retry only when the request never reached WAS.
    assert "5xx" not in http[0]["retries"]["retryOn"]


@pytest.mark.parametrize("name, tls", [("web", "DISABLE"), ("was", "ISTIO_MUTUAL")])
def test_destination_rules(docs, name, tls):
    spec = find(docs, "DestinationRule", f"{name}-dest-rule")["spec"]
    assert spec["host"] == f"{name}-service"
    policy = spec["trafficPolicy"]
    assert policy["loadBalancer"] == {"simple": "ROUND_ROBIN"}
    assert policy["outlierDetection"]["consecutive5xxErrors"] == 5
    assert policy["outlierDetection"]["baseEjectionTime"] == "30s"
    assert policy["outlierDetection"]["maxEjectionPercent"] == 50
    assert policy["connectionPool"]["http"]["http1MaxPendingRequests"] == 100
    assert policy["tls"]["mode"] == tls
    assert [s["name"] for s in spec["subsets"]] == ["stable", "canary"]


def test_authorization_policies(docs):
    web = find(docs, "AuthorizationPolicy", "web-authz")["spec"]
    assert web["action"] == "ALLOW" and web["selector"]["matchLabels"] == {"app": "web"}
    assert web["rules"][0] == {"to": [{"operation": {"ports": ["80"]}}]}
    was = find(docs, "AuthorizationPolicy", "was-authz")["spec"]
    assert was["action"] == "ALLOW" and was["selector"]["matchLabels"] == {"app": "was"}
    assert len(was["rules"]) == 1
    rule = was["rules"][0]
    assert rule["from"] == [{"source": {"principals": ["cluster.local/ns/blog-system/sa/web"]}}]
    assert rule["to"][0]["operation"]["ports"] == ["8080"]
    assert rule["to"][0]["operation"]["methods"] == ["GET", "POST", "PUT", "DELETE"]
    # The principal only exists on mutual TLS: the WEB -> WAS hop must use it.
    assert find(docs, "DestinationRule", "was-dest-rule")["spec"]["trafficPolicy"]["tls"]["mode"] == "ISTIO_MUTUAL"


# -- ArgoCD and Argo Rollouts ---------------------------------------------------------------------------------
def test_application(build):
    app = load_yaml_docs(build / "manifests" / "argocd" / "application.yaml")[0]
    assert (app["metadata"]["name"], app["metadata"]["namespace"]) == ("blog-system", "argocd")
    source = app["spec"]["source"]
    assert source == {"repoURL": "https://github.com/wlals2/k8s-manifests.git", "path": "blog-system",
                      "targetRevision": "HEAD"}
    assert (build / "gitops" / source["path"]).is_dir(), "the Application must point at the rendered folder"
    assert app["spec"]["destination"]["namespace"] == "blog-system"
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    ignored = app["spec"]["ignoreDifferences"]
    # The seed's entries, exactly, with the VirtualService names actually rendered.
    assert {"group": "networking.istio.io", "kind": "VirtualService", "name": "web-vsvc",
            "jsonPointers": ["/spec/http/0/route", "/spec/http/1/route"]} in ignored
    assert {"group": "networking.istio.io", "kind": "VirtualService", "name": "was-vsvc",
            "jsonPointers": ["/spec/http/0/route"]} in ignored
    rendered = {d["metadata"]["name"]: d for d in gitops_docs(build.name) if d["kind"] == "VirtualService"}
    for entry in ignored:
        if entry["kind"] == "VirtualService":
            http = rendered[entry["name"]]["spec"]["http"]
            for pointer in entry.get("jsonPointers", []):
                index = int(pointer.split("/")[3])
                assert index < len(http) and "route" in http[index], f"{entry['name']} {pointer} points nowhere"


def test_argocd_values(build):
    values = yaml.safe_load((build / "values" / "argocd.yaml").read_text(encoding="utf-8"))
    assert values["global"]["image"]["tag"].startswith("v2.13.")
    assert values["configs"]["params"]["server.insecure"] is True
    assert values["server"]["service"]["servicePortHttp"] == 80
    assert values["dex"]["enabled"] is False and values["notifications"]["enabled"] is False
    # The seed's argocd namespace budget: 5 pods, 500m CPU and 1Gi memory requested.
    pods = ["controller", "server", "repoServer", "redis", "applicationSet"]
    assert sum(quantity(values[p]["resources"]["requests"]["cpu"]) for p in pods) <= 0.5
    assert sum(quantity(values[p]["resources"]["requests"]["memory"]) for p in pods) <= 2**30


def test_argo_rollouts_values(build):
    values = yaml.safe_load((build / "values" / "argo-rollouts.yaml").read_text(encoding="utf-8"))
    assert values["dashboard"]["enabled"] is False
    assert values["controller"]["image"]["tag"].startswith("v1.7.")
    assert values["installCRDs"] is True
