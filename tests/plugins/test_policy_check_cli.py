"""tools/policy_check.py: the Markdown matrix, one-flow queries, DOT and SVG pictures."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import yaml

import policy_check
from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import cilium_policies
pytest_plugins = ["plugin_fixtures"]  # the seed_graph and validator fixtures

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def graph_file(tmp_path, seed_graph):
    path = tmp_path / "graph.yml"
    path.write_text(yaml.safe_dump(seed_graph, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def policy_dir(tmp_path, seed_graph):
    """Rendered policies the way k8s_render writes them, plus a document of another kind."""
    folder = tmp_path / "gitops" / "blog-system"
    folder.mkdir(parents=True)
    (folder / "network-policies.yaml").write_text(yaml.safe_dump_all(cilium_policies(seed_graph)), encoding="utf-8")
    (folder / "config.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", encoding="utf-8")
    return str(tmp_path / "gitops")


def run(capsys, *argv):
    status = policy_check.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_markdown_matrix_from_rendered_files(capsys, graph_file, policy_dir):
    status, out, err = run(capsys, "--graph", graph_file, policy_dir)
    assert status == 0
    lines = out.splitlines()
    names = ["web", "was", "mysql", "mysql-exporter", "mysql-backup", "kube-dns", "istiod", "ingress-gateway",
             "prometheus", "tempo", "github", "s3", "world"]
    assert lines[0] == "| from \\ to | " + " | ".join(names) + " |"
    cells = {line.split(" | ")[0][4:-2]: re.split(r"(?<!\\)\|", line)[2:-1] for line in lines[2:]}
    assert len(cells) == len(names) and all(len(row) == len(names) for row in cells.values())
    web = dict(zip(names, (c.strip() for c in cells["web"])))
    assert web["was"] == "8080/TCP HTTP DELETE\\|GET\\|POST\\|PUT" and web["mysql"] == "-"
    assert "5 policies, 13 endpoints" in err


def test_compile_gives_the_same_matrix_as_rendered_files(capsys, graph_file, policy_dir):
    assert run(capsys, "--graph", graph_file, policy_dir)[1] == run(capsys, "--graph", graph_file, "--compile")[1]


@pytest.mark.parametrize("argv, status, first_line", [
    (["--from", "web", "--to", "was", "--port", "8080", "--method", "GET"], 0, "ALLOWED web -> was:8080/TCP GET"),
    (["--from", "web", "--to", "was", "--port", "8080", "--method", "PATCH"], 1, "DENIED web -> was:8080/TCP PATCH"),
    (["--from", "was", "--to", "api.github.com", "--port", "443"], 0, "ALLOWED was -> api.github.com:443/TCP"),
    (["--from", "mysql", "--to", "world", "--port", "443"], 1, "DENIED mysql -> world:443/TCP"),
    (["--from", "web", "--to", "kube-dns", "--port", "53", "--protocol", "udp"], 0, "ALLOWED web -> kube-dns:53/UDP"),
])
def test_queries(capsys, graph_file, argv, status, first_line):
    code, out, _ = run(capsys, "--graph", graph_file, "--compile", *argv)
    assert code == status
    assert out.splitlines()[0] == first_line
    assert out.splitlines()[1].startswith("  egress of ")


def test_graph_inside_an_inventory_vars_file(capsys, tmp_path, seed_graph):
    path = tmp_path / "delivery.yml"
    path.write_text(yaml.safe_dump({"blog_app_network_graph": seed_graph, "argocd_version": "2.13"},
                                   sort_keys=False), "utf-8")
    assert run(capsys, "--graph", str(path), "--compile", "--from", "web", "--to", "was", "--port", "8080")[0] == 0
    assert run(capsys, "--graph", str(path), "--graph-key", "blog_app_network_graph", "--compile")[0] == 0
    status, _, err = run(capsys, "--graph", str(path), "--graph-key", "nope", "--compile")
    assert status == 2 and "no top-level key 'nope'" in err


def test_errors_exit_2_with_a_message(capsys, graph_file, tmp_path):
    status, _, err = run(capsys, "--graph", graph_file, str(tmp_path / "missing"))
    assert status == 2 and "no such file or folder" in err
    status, _, err = run(capsys, "--graph", graph_file, "--compile", "--from", "nobody", "--to", "was", "--port", "1")
    assert status == 2 and "unknown endpoint 'nobody'" in err
    with pytest.raises(SystemExit):
        policy_check.main(["--graph", graph_file, "--compile", "--from", "web", "--to", "was"])
    assert "a query needs --from, --to and --port" in capsys.readouterr().err


def test_dot_and_svg_pictures(capsys, graph_file, tmp_path, seed_graph):
    dot, svg = tmp_path / "out" / "p.dot", tmp_path / "out" / "p.svg"
    assert run(capsys, "--graph", graph_file, "--compile", "--dot", str(dot), "--svg", str(svg))[0] == 0
    checker = policy_check.PolicyChecker(cilium_policies(seed_graph), seed_graph)
    edges = policy_check.policy_edges(checker, checker.matrix())
    # 5 workloads x DNS + the seed's 10 other flows + web:80 from the 8 endpoints without policy (from all)
    assert len(edges) == 23
    text = dot.read_text()
    assert text.startswith("digraph policies {") and text.rstrip().endswith("}")
    assert text.count(" -> ") == len(edges)
    assert 'n0 -> n1 [label="8080/TCP HTTP DELETE|GET|POST|PUT"];' in text
    assert 'subgraph cluster_1 { label="kube-system";' in text
    root = ET.parse(svg).getroot()  # well-formed, self-contained XML
    assert root.tag == f"{SVG}svg"
    assert len([p for p in root.iter(f"{SVG}path") if p.get("marker-end")]) == len(edges)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert all(labels.count(e.name) == 2 for e in checker.endpoints)  # once as source, once as destination
    assert "href" not in svg.read_text()  # nothing external
