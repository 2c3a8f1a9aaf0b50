"""Falco (modern eBPF) with Falcosidekick to Slack and Talon; Talon's responses mapped to the seed's actions."""

from __future__ import annotations

import yaml

from obs_support import env_dir, find, homelab_dir, manifests, no_webhook_dir, values  # noqa: F401 (fixtures)

SEED_RESPONSES = {
    # Falco event (rule name, or tag) -> actionner that must run, per the seed's IPS scenarios.
    "Terminal shell in container": "kubernetes:networkpolicy",          # shell -> isolate the pod
    "Read sensitive file untrusted": "kubernetes:networkpolicy",        # /etc/shadow read -> block network
    "Read sensitive file trusted after startup": "kubernetes:networkpolicy",
    "tag:mitre_privilege_escalation": "kubernetes:terminate",           # privilege escalation -> kill the pod
}


def talon_rules(env_dir):
    config = values(env_dir, "falco-talon")["config"]
    items = yaml.safe_load(config["rulesOverride"])
    actions = {i["action"]: i for i in items if "action" in i}
    rules = [i for i in items if "rule" in i]
    return actions, rules


def matching(rules, event):
    if event.startswith("tag:"):
        return [r for r in rules if any(event[4:] in t.split(", ") for t in r["match"].get("tags", []))]
    return [r for r in rules if event in r["match"].get("rules", [])]


def sidekick_env(v):
    return {e["name"]: e["value"] for e in v["falcosidekick"]["config"]["extraEnv"]}


def test_falco_modern_ebpf_and_seed_resources(env_dir):
    v = values(env_dir, "falco")
    assert v["driver"] == {"enabled": True, "kind": "modern_ebpf"}
    assert v["image"]["tag"].startswith("0.40.")
    assert v["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}
    assert v["falco"]["json_output"] is True and v["falco"]["http_output"]["enabled"] is True
    namespace = find(manifests(env_dir, "falco"), "Namespace", "falco")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_falcosidekick_forwards_to_talon(env_dir):
    v = values(env_dir, "falco")
    assert v["falcosidekick"]["enabled"] is True
    env = sidekick_env(v)
    assert env["TALON_ADDRESS"] == "http://falco-talon.falco.svc.cluster.local:2803"
    talon = values(env_dir, "falco-talon")
    assert talon["config"]["listenPort"] == 2803 and talon["image"]["tag"] == "0.2.1"


def test_slack_webhook_only_through_the_existing_secret(homelab_dir):
    v = values(homelab_dir, "falco")
    assert v["falcosidekick"]["config"]["existingSecret"] == "falcosidekick-slack"
    assert "slack" not in v["falcosidekick"]["config"], "no webhook in Helm values"
    assert sidekick_env(v)["SLACK_MINIMUMPRIORITY"] == "warning"
    secret = find(manifests(homelab_dir, "falco"), "Secret", "falcosidekick-slack")
    assert list(secret["stringData"]) == ["SLACK_WEBHOOKURL"]


def test_no_slack_output_without_webhook(no_webhook_dir):
    v = values(no_webhook_dir, "falco")
    assert "existingSecret" not in v["falcosidekick"]["config"]
    assert not [name for name in sidekick_env(v) if name.startswith("SLACK_")]
    assert [d["kind"] for d in manifests(no_webhook_dir, "falco")] == ["Namespace"]
    assert "TALON_ADDRESS" in sidekick_env(v), "Talon forwarding does not depend on Slack"


def test_talon_maps_each_seed_scenario_to_its_action(env_dir):
    actions, rules = talon_rules(env_dir)
    for event, actionner in SEED_RESPONSES.items():
        found = matching(rules, event)
        assert len(found) == 1, f"{event}: expected one Talon rule, found {[r['rule'] for r in found]}"
        used = [actions[a["action"]]["actionner"] for a in found[0]["actions"]]
        assert actionner in used, f"{event} runs {used}, not {actionner}"
    isolate = [actions[a["action"]] for a in matching(rules, "Terminal shell in container")[0]["actions"]]
    policy = next(a for a in isolate if a["actionner"] == "kubernetes:networkpolicy")
    assert not policy.get("parameters"), "isolation allows no egress at all"
    block = [actions[a["action"]] for a in matching(rules, "Read sensitive file untrusted")[0]["actions"]]
    assert block[0]["parameters"]["allow_cidr"] == ["10.244.0.0/16"], "blocking keeps in-cluster traffic only"


def test_talon_is_dry_run_and_spares_system_namespaces(env_dir):
    actions, rules = talon_rules(env_dir)
    assert len(rules) == 3
    for rule in rules:
        assert rule["dry_run"] is True, f"{rule['rule']} is not dry-run"
        assert rule["match"]["output_fields"] == [
            "k8s.ns.name!=kube-system, k8s.ns.name!=falco, k8s.ns.name!=monitoring"]
        for step in rule["actions"]:
            assert step["action"] in actions, f"{rule['rule']} uses undefined action {step['action']}"
    assert all(a["actionner"].split(":")[0] == "kubernetes" for a in actions.values())
