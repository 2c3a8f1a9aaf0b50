"""Security improvements over the seed: non-root, no privilege escalation, least capabilities, the application's
own MySQL user, service-account identities, and no secret in plain text under build/ or in the repository."""

from __future__ import annotations

import subprocess

import pytest

from app_helpers import ENVIRONMENTS, containers, fake_secrets, find, gitops_docs, load_yaml_docs, pod_spec
from conftest import BUILD, ROOT, build_dir
from ansible_collections.homelab.stack.plugins.module_utils.manifests import REDACTED

WORKLOADS = [("Rollout", "web"), ("Rollout", "was"), ("Deployment", "mysql"), ("Deployment", "mysql-exporter"),
             ("CronJob", "mysql-backup")]
# The one container that starts as root: the nginx master binds :80 and drops to the nginx user (the seed's
# design), keeping exactly these capabilities.
ROOT_CONTAINERS = {("web", "web"): ["NET_BIND_SERVICE", "CHOWN", "SETUID", "SETGID"]}
OUTSIDE_MESH = ["mysql", "mysql-exporter", "mysql-backup"]


def workload_containers(docs):
    for kind, name in WORKLOADS:
        doc = find(docs, kind, name)
        for item in containers(doc):
            yield name, doc, item


@pytest.fixture(params=ENVIRONMENTS)
def docs(request):
    return gitops_docs(request.param)


def test_no_container_escalates_and_all_drop_every_capability(docs):
    seen = 0
    for workload, _, item in workload_containers(docs):
        context = item.get("securityContext") or {}
        assert context.get("allowPrivilegeEscalation") is False, f"{workload}/{item['name']}"
        assert context.get("capabilities", {}).get("drop") == ["ALL"], f"{workload}/{item['name']}"
        assert context.get("readOnlyRootFilesystem") is True, f"{workload}/{item['name']}"
        assert context.get("capabilities", {}).get("add", []) == ROOT_CONTAINERS.get((workload, item["name"]), [])
        assert "privileged" not in context
        seen += 1
    assert seen == 8, "expected 8 containers across the five workloads"


def test_everything_but_nginx_runs_as_non_root(docs):
    for workload, doc, item in workload_containers(docs):
        pod = pod_spec(doc).get("securityContext") or {}
        context = {**pod, **(item.get("securityContext") or {})}
        assert pod.get("seccompProfile") == {"type": "RuntimeDefault"}, workload
        if (workload, item["name"]) in ROOT_CONTAINERS:
            continue
        assert context.get("runAsNonRoot") is True, f"{workload}/{item['name']}"
        assert context.get("runAsUser", 0) > 0, f"{workload}/{item['name']}"


def test_seed_security_contexts_are_kept_or_improved(docs):
    was = find(docs, "Rollout", "was")
    was_context = next(c for c in containers(was) if c["name"] == "was")["securityContext"]
    assert (was_context["runAsNonRoot"], was_context["runAsUser"]) == (True, 65534)
    mysql = find(docs, "Deployment", "mysql")
    assert pod_spec(mysql)["securityContext"]["runAsUser"] == 999
    assert pod_spec(mysql)["securityContext"]["fsGroup"] == 999


def test_mysql_application_user_is_not_root(docs):
    mysql_env = {e["name"]: e.get("value") for c in containers(find(docs, "Deployment", "mysql")) for e in c["env"]}
    assert mysql_env["MYSQL_USER"] == "board"
    assert find(docs, "ConfigMap", "was-config")["data"]["SPRING_DATASOURCE_USERNAME"] == "board"
    backup_env = {e["name"]: e.get("value") for c in containers(find(docs, "CronJob", "mysql-backup"))
                  for e in c.get("env", [])}
    assert backup_env["MYSQL_USER"] == "board"
    grants = find(docs, "ConfigMap", "mysql-initdb")["data"]
    assert all("'board'@'%'" in sql and "root" not in sql for sql in grants.values())


def test_every_workload_has_its_own_identity_without_api_token(docs):
    for kind, name in WORKLOADS:
        spec = pod_spec(find(docs, kind, name))
        assert spec["serviceAccountName"] == name
        assert spec["automountServiceAccountToken"] is False
        assert find(docs, "ServiceAccount", name)["automountServiceAccountToken"] is False


def test_data_plane_outside_the_mesh_has_no_sidecar(docs):
    for kind, name in WORKLOADS:
        doc = find(docs, kind, name)
        template = doc["spec"]["jobTemplate"]["spec"]["template"] if kind == "CronJob" else doc["spec"]["template"]
        inject = template["metadata"].get("annotations", {}).get("sidecar.istio.io/inject")
        assert inject == ("false" if name in OUTSIDE_MESH else None), name


def test_no_literal_secret_in_any_environment_variable(docs):
    for workload, _, item in workload_containers(docs):
        for variable in item.get("env", []):
            if any(word in variable["name"] for word in ("PASSWORD", "SECRET", "ACCESS_KEY", "PWD")):
                assert "valueFrom" in variable or variable["name"].endswith("_FILE"), \
                    f"{workload}/{item['name']} {variable['name']} holds a literal value"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_secret_under_build_is_redacted(env):
    """Holds whatever vault rendered build/<env> (the lab's own or the fake one)."""
    found = 0
    for path in sorted(build_dir(env).rglob("*.yaml")):
        for doc in load_yaml_docs(path):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                found += 1
                for key in ("data", "stringData"):
                    values = (doc.get(key) or {}).values()
                    assert all(value == REDACTED for value in values), f"{path}: {doc['metadata']['name']}"
    assert found >= 3


def test_fake_secrets_appear_nowhere_under_build():
    secrets = fake_secrets()
    files = [p for p in BUILD.rglob("*") if p.is_file()]
    assert len(files) > 40, "build/ is not rendered"
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not [s for s in secrets if s in text], f"{path} holds a secret from the fake vault"


def test_fake_secrets_appear_nowhere_in_the_repository():
    secrets = fake_secrets()
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    files = [ROOT / name for name in listed if name and name != "tests/fixtures/fake-vault.yml"]
    assert len(files) > 100
    for path in files:
        # A symbolic link (molecule/site's inventory links the fixture) is its target, checked on its own.
        if path.is_file() and not path.is_symlink():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [s for s in secrets if s in text], f"{path} holds a secret from the fake vault"
