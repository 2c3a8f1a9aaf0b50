#!/usr/bin/env python3
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Check compiled CiliumNetworkPolicies: the reachability matrix, one flow, and a picture of who talks to whom.

The endpoints come from the service graph (the same file the policies are compiled from); the policies from
YAML files or folders (other kinds are skipped), or compiled from the graph with --compile.

  policy_check.py --graph graph.yml build/lab/gitops/blog-system/          # Markdown matrix on stdout
  policy_check.py --graph graph.yml --compile --from web --to was --port 8080 --method GET
  policy_check.py --graph inventory/lab/group_vars/all/delivery.yml --graph-key blog_app_network_graph \\
      --compile --markdown build/policy.md --dot build/policy.dot --svg build/policy.svg

A query prints ALLOWED or DENIED with the deciding rules and exits 0 (allowed) or 1 (denied); errors exit 2.
Semantics: docs/plugins.md ("Policy checker").
"""

from __future__ import annotations

import argparse
import sys
from html import escape
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import (  # noqa: E402
    OPEN, CheckError, PolicyChecker, grant_labels)
from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import cilium_policies  # noqa: E402
from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import GraphError  # noqa: E402

DENIED = "-"
OUTSIDE = "(outside the cluster)"


# -- inputs -------------------------------------------------------------------------------------------------
def load_graph(path, key=None):
    """The service graph in a YAML file: the document itself, its `key`, or its only value holding workloads."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if key:
        if not isinstance(data, dict) or key not in data:
            raise CheckError(f"{path}: no top-level key {key!r}. Fix: check --graph-key.")
        return data[key]
    if isinstance(data, dict) and "workloads" in data:
        return data
    candidates = [v for v in (data or {}).values() if isinstance(v, dict) and "workloads" in v] \
        if isinstance(data, dict) else []
    if len(candidates) != 1:
        raise CheckError(f"{path}: found {len(candidates)} service graphs (mappings with workloads). Fix: pass "
                         "--graph-key NAME.")
    return candidates[0]


def load_policies(paths):
    """Every YAML document under the paths (files or folders, recursively, in name order)."""
    documents = []
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            files = [path]
        else:
            raise CheckError(f"{path}: no such file or folder. Fix: render first (make render) or use --compile.")
        for file in files:
            documents += [d for d in yaml.safe_load_all(file.read_text(encoding="utf-8")) if isinstance(d, dict)]
    return documents


# -- outputs ------------------------------------------------------------------------------------------------
def cell_text(grants):
    if grants is None:
        return DENIED
    if grants is OPEN:
        return "any port (no policy)"
    # A bare | would end the Markdown table cell.
    return "<br>".join(label.replace("|", "\\|") for label in grant_labels(grants))


def to_markdown(checker, cells):
    """Rows are sources, columns destinations; `-` is denied."""
    names = [e.name for e in checker.endpoints]
    lines = ["| from \\ to | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for a, source in enumerate(names):
        row = [cell_text(cells.get((a, b))) for b in range(len(names))]
        lines.append(f"| **{source}** | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _group(endpoint):
    return endpoint.namespace if endpoint.is_pod else OUTSIDE


def policy_edges(checker, cells):
    """Allowed pairs that a policy restricts, in catalog order (pairs open only for want of any policy
    are left out: they would connect every unpoliced endpoint to every other one)."""
    return [(a, b, grant_labels(grants)) for (a, b), grants in sorted(cells.items()) if grants is not OPEN]


def to_dot(checker, cells):
    """Graphviz DOT: one cluster per namespace, one edge per allowed pair labelled with what is open."""
    lines = ["digraph policies {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb"];']
    groups = {}
    for i, endpoint in enumerate(checker.endpoints):
        groups.setdefault(_group(endpoint), []).append(i)
    for number, (group, members) in enumerate(groups.items()):
        lines.append(f'  subgraph cluster_{number} {{ label="{group}";')
        lines += [f'    n{i} [label="{checker.endpoints[i].name}"];' for i in members]
        lines.append("  }")
    for a, b, labels in policy_edges(checker, cells):
        label = "\\n".join(labels).replace('"', '\\"')
        lines.append(f'  n{a} -> n{b} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


PALETTE = ("#d9e7fb", "#dff3e4", "#fbe9d9", "#ece2f7", "#fbf6d3", "#d9f3f3", "#f7dfe8")
ROW, BOX_W, BOX_H, TOP, GAP = 40, 170, 28, 60, 18


def _rows(checker):
    """Endpoints in rows grouped by namespace (outside-the-cluster endpoints last): {index: y}, groups."""
    groups = {}
    for i, endpoint in enumerate(checker.endpoints):
        groups.setdefault(_group(endpoint), []).append(i)
    rows, y, headers = {}, TOP, []
    for group in sorted(groups, key=lambda g: (g == OUTSIDE, g)):
        headers.append((group, y))
        y += GAP
        for i in groups[group]:
            rows[i] = y
            y += ROW
    return rows, headers, y


def to_svg(checker, cells):
    """A self-contained SVG: sources on the left, destinations on the right, one arrow per allowed pair
    that a policy restricts, labelled with what is open. No external resource, no dependency."""
    rows, headers, height = _rows(checker)
    width = 1000
    left, right = 40, width - 40 - BOX_W
    colours = {group: PALETTE[n % len(PALETTE)] for n, (group, _) in enumerate(headers)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20}" '
           f'viewBox="0 0 {width} {height + 20}" font-family="sans-serif" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#35618f"/></marker></defs>',
           f'<rect width="{width}" height="{height + 20}" fill="white"/>',
           f'<text x="{left}" y="30" font-weight="bold">from</text>',
           f'<text x="{right}" y="30" font-weight="bold">to</text>']
    for group, y in headers:
        for x in (left, right):
            out.append(f'<text x="{x}" y="{y + 12}" font-style="italic" fill="#555">{escape(group)}</text>')
    for number, (a, b, labels) in enumerate(policy_edges(checker, cells)):
        # Labels spread along their arrows (golden-ratio steps) so they do not all pile up in the middle.
        where = 0.25 + 0.5 * ((number * 0.618) % 1)
        out.append(_svg_edge((left + BOX_W, rows[a] + BOX_H / 2), (right, rows[b] + BOX_H / 2), labels, where))
    for i, y in rows.items():
        endpoint = checker.endpoints[i]
        for x in (left, right):
            out.append(f'<g><title>{escape(endpoint.name)} ({endpoint.kind})</title><rect x="{x}" y="{y}" '
                       f'width="{BOX_W}" height="{BOX_H}" rx="7" fill="{colours[_group(endpoint)]}" '
                       f'stroke="#35618f"/><text x="{x + BOX_W / 2}" y="{y + 18}" text-anchor="middle">'
                       f'{escape(endpoint.name)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_edge(start, end, labels, where):
    (x1, y1), (x2, y2) = start, end
    label = escape(", ".join(labels))
    lx, ly = x1 + (x2 - x1) * where, y1 + (y2 - y1) * where - 3
    return (f'<g><title>{label}</title><path d="M {x1} {y1} L {x2} {y2}" stroke="#35618f" stroke-width="1.2" '
            f'marker-end="url(#arrow)"/><text x="{lx:.0f}" y="{ly:.0f}" font-size="10" fill="#333" '
            f'text-anchor="middle" stroke="white" stroke-width="3" paint-order="stroke">{label}</text></g>')


# -- command line -------------------------------------------------------------------------------------------
def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="policy YAML files or folders")
    parser.add_argument("--graph", required=True, help="YAML file holding the service graph (the catalog)")
    parser.add_argument("--graph-key", help="top-level key of the graph in that file")
    parser.add_argument("--compile", action="store_true", help="compile the policies from the graph")
    parser.add_argument("--from", dest="source")
    parser.add_argument("--to", dest="destination")
    parser.add_argument("--port", type=int)
    parser.add_argument("--protocol", default="TCP")
    parser.add_argument("--method")
    parser.add_argument("--markdown", help="write the matrix as Markdown to this file ('-' for stdout)")
    parser.add_argument("--dot", help="write a Graphviz DOT picture to this file")
    parser.add_argument("--svg", help="write an SVG picture to this file")
    args = parser.parse_args(argv)
    query = (args.source, args.destination, args.port)
    if any(v is not None for v in query) and None in query:
        parser.error("a query needs --from, --to and --port")
    if not args.paths and not args.compile:
        parser.error("give policy files/folders, or --compile to compile them from the graph")
    return args


def _query(args, policies, graph):
    checker = PolicyChecker(policies, graph, [args.source, args.destination])
    decision = checker.allows(args.source, args.destination, args.port, args.protocol, args.method)
    flow = f"{args.source} -> {args.destination}:{args.port}/{args.protocol.upper()}"
    print(f"{'ALLOWED' if decision.allowed else 'DENIED'} {flow}{' ' + args.method if args.method else ''}")
    for reason in decision.reasons:
        print(f"  {reason}")
    return checker, 0 if decision.allowed else 1


def _report(args, policies, graph):
    checker = PolicyChecker(policies, graph)
    cells = checker.matrix()
    outputs = {"markdown": to_markdown, "dot": to_dot, "svg": to_svg}
    chosen = {name: getattr(args, name) for name in outputs if getattr(args, name)} or {"markdown": "-"}
    for name, target in chosen.items():
        _write(target, outputs[name](checker, cells))
    print(f"{checker.policy_count} policies, {len(checker.endpoints)} endpoints, {len(cells)} allowed pairs",
          file=sys.stderr)
    return checker, 0


def _write(target, text):
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text, encoding="utf-8")


def main(argv=None):
    args = _arguments(argv)
    try:
        graph = load_graph(args.graph, args.graph_key)
        policies = (cilium_policies(graph) if args.compile else []) + load_policies(args.paths)
        checker, status = (_query if args.source is not None else _report)(args, policies, graph)
    except (CheckError, GraphError, OSError, yaml.YAMLError) as exc:
        print(f"policy_check: {exc}", file=sys.stderr)
        return 2
    for warning in checker.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
