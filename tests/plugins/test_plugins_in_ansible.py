"""The plugins as Ansible loads them: ansible-doc for each, and a playbook using every filter and running
homelab.stack.kubeadm_token against a fake kubeadm executable (created, then reused, check mode)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, tool

FILTERS = ["cilium_policies", "k8s_network_policies", "policy_allows", "reachability_matrix", "canary_steps",
           "canary_managed_routes", "argument_options"]
HERE = Path(__file__).resolve().parent


def ansible_env():
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCALHOST_WARNING="false",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def test_ansible_doc_documents_every_plugin():
    filters = json.loads(subprocess.run(
        [tool("ansible-doc"), "-t", "filter", "--json"] + [f"homelab.stack.{name}" for name in FILTERS],
        cwd=ROOT, env=ansible_env(), capture_output=True, text=True, check=True).stdout)
    module = json.loads(subprocess.run([tool("ansible-doc"), "--json", "homelab.stack.kubeadm_token"], cwd=ROOT,
                                       env=ansible_env(), capture_output=True, text=True, check=True).stdout)
    lookup = json.loads(subprocess.run([tool("ansible-doc"), "-t", "lookup", "--json", "homelab.stack.download_probe"],
                                       cwd=ROOT, env=ansible_env(), capture_output=True, text=True, check=True).stdout)
    assert sorted(filters) == sorted(f"homelab.stack.{name}" for name in FILTERS)
    for name, doc in list(filters.items()) + list(module.items()) + list(lookup.items()):
        assert doc["doc"]["short_description"] and doc["examples"] and doc["return"], name
        assert "_input" in doc["doc"]["options"] or name.endswith(("kubeadm_token", "download_probe")), name
    assert set(lookup["homelab.stack.download_probe"]["doc"]["options"]) == {"_terms", "timeout", "variable"}
    options = module["homelab.stack.kubeadm_token"]["doc"]["options"]
    assert {"kubeadm_path", "kubeconfig", "ttl", "min_ttl", "description", "api_endpoint", "ca_cert_path",
            "control_plane", "certificate_key"} <= set(options)


FAKE_KUBEADM = """\
#!{python}
# Fake kubeadm for the test: tokens kept in a JSON file next to this script.
import json, sys, pathlib
state = pathlib.Path(__file__).with_suffix(".json")
tokens = json.loads(state.read_text()) if state.exists() else []
args = sys.argv[1:]
with open(pathlib.Path(__file__).with_suffix(".log"), "a") as log:
    log.write(" ".join(args) + "\\n")
if args[:2] == ["token", "list"]:
    print("".join(json.dumps(t, indent=4) + "\\n" for t in tokens), end="")
elif args[:2] == ["token", "create"]:
    token = "abc%03d.0123456789abcdef" % len(tokens)
    tokens.append({{"kind": "BootstrapToken", "token": token, "description": args[args.index("--description") + 1],
                   "expires": "2999-01-01T00:00:00Z", "usages": ["authentication", "signing"],
                   "groups": ["system:bootstrappers:kubeadm:default-node-token"]}})
    state.write_text(json.dumps(tokens))
    print("kubeadm join 10.9.8.7:6443 --token %s --discovery-token-ca-cert-hash sha256:%s " % (token, "b" * 64))
else:
    sys.exit("unexpected: %s" % args)
"""

PLAYBOOK = """\
---
- name: Plugins of homelab.stack
  hosts: localhost
  gather_facts: false
  vars:
    graph: "{{{{ lookup('ansible.builtin.file', '{seed}') | from_yaml }}}}"
    policies: "{{{{ graph | homelab.stack.cilium_policies }}}}"
    matrix: "{{{{ policies | homelab.stack.reachability_matrix(graph) }}}}"
    bad: {{namespace: x, workloads: {{web: {{labels: {{app: web}}, egress: [{{to: [nowhere]}}]}}}}}}
    canary: {{weights: [10, 50, 90], pause: 30s, header_route: {{name: h, header: x-canary, value: "true"}}}}
    token_args: {{kubeadm_path: "{kubeadm}", kubeconfig: "{kubeconfig}", ca_cert_path: "{ca}"}}
  tasks:
    - name: Filters give the expected answers
      ansible.builtin.assert:
        that:
          - policies | map(attribute='metadata.name') | list | length == 5
          - graph | homelab.stack.k8s_network_policies | length == 5
          - policies | homelab.stack.policy_allows(graph, 'web', 'was', 8080, method='GET')
          - not (policies | homelab.stack.policy_allows(graph, 'web', 'was', 8080, method='PATCH'))
          - (policies | homelab.stack.policy_allows(graph, 'web', 'mysql', 3306, explain=true)).reasons | length == 2
          - matrix | dict2items | selectattr('value.mysql', 'defined') | map(attribute='key') | sort
            == ['mysql-backup', 'mysql-exporter', 'was']
          - canary | homelab.stack.canary_steps | length == 8
          - (canary | homelab.stack.canary_managed_routes | map(attribute='name') | list) == ['h']

    - name: A bad graph fails with the path of the problem
      ansible.builtin.set_fact:
        broken: "{{{{ bad | homelab.stack.cilium_policies }}}}"
      register: bad_graph
      ignore_errors: true

    - name: Check mode creates nothing
      homelab.stack.kubeadm_token: "{{{{ token_args }}}}"
      check_mode: true
      register: checked

    - name: First run creates a token
      homelab.stack.kubeadm_token: "{{{{ token_args }}}}"
      register: first
      no_log: true

    - name: Second run reuses it
      homelab.stack.kubeadm_token: "{{{{ token_args }}}}"
      register: second
      no_log: true

    - name: Results
      ansible.builtin.assert:
        that:
          - bad_graph is failed
          - "'workloads.web.egress[0].to[0]' in bad_graph.msg"
          - checked is changed and not checked.created and checked.token == ''
          - first is changed and first.created and first.token == 'abc000.0123456789abcdef'
          - second is not changed and second.token == first.token
          - second.join_command == '{kubeadm} join 10.9.8.7:6443 --token abc000.0123456789abcdef
            --discovery-token-ca-cert-hash {hash}'
"""


def test_playbook_uses_filters_and_module(tmp_path):
    kubeadm = tmp_path / "kubeadm"
    kubeadm.write_text(FAKE_KUBEADM.format(python=sys.executable))
    kubeadm.chmod(0o755)
    (tmp_path / "admin.conf").write_text("clusters:\n- cluster:\n    server: https://10.9.8.7:6443\n")
    ca_hash = "sha256:6d8c593eb4d8863264c4ce7d492c62fe2794c60d8c44b1f10c227ba86479b00e"  # of fixtures/ca.crt
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(seed=HERE / "seed_graph.yml", kubeadm=kubeadm, ca=HERE / "fixtures" / "ca.crt",
                                        kubeconfig=tmp_path / "admin.conf", hash=ca_hash))
    run = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                          f"ansible_python_interpreter={sys.executable}", str(playbook)],
                         cwd=ROOT, env=ansible_env(), capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "ok=6 " in run.stdout and "failed=0" in run.stdout and "ignored=1" in run.stdout, run.stdout[-2500:]
    calls = (tmp_path / "kubeadm.log").read_text().splitlines()
    assert calls == [f"token list -o json --kubeconfig {tmp_path}/admin.conf"] * 2 + [
        f"token create --kubeconfig {tmp_path}/admin.conf --ttl 1h --description homelab.stack join "
        "--print-join-command", f"token list -o json --kubeconfig {tmp_path}/admin.conf"]
    assert "abc000.0123456789abcdef" not in run.stdout  # no_log kept the token out of the output
