#!/usr/bin/env python3
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Benchmark the policy plugins on a generated service graph (default 1,000 workloads).

Measures, over several runs each (median / min / max, wall clock):
  compile   graph -> CiliumNetworkPolicies (homelab.stack.cilium_policies)          target < 1 s
  compile-np graph -> Kubernetes NetworkPolicies (homelab.stack.k8s_network_policies)
  matrix    index the policies + every (source, destination) pair decided, and the dense
            N x N allowed/denied grid materialised (homelab.stack.reachability_matrix)  target < 10 s
  matrix-dense  the same on the worst case: every workload may call the whole cluster and accepts
            everyone (`all`), so nearly every one of the N x N pairs is allowed
  validate  every compiled policy against the CiliumNetworkPolicy schema (one run; informative)

Usage: bench_plugins.py [--workloads 1000] [--runs 5] [--seed 1] [--json FILE] [--no-validate]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / ".collections", ROOT / "tools"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import PolicyChecker  # noqa: E402
from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import (  # noqa: E402
    cilium_policies, k8s_network_policies)

EXTERNALS = {
    "kube-dns": {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}, "ports": ["53/UDP", "53/TCP"]},
    "istiod": {"namespace": "istio-system", "labels": {"app": "istiod"}},
    "ingress-gateway": {"namespace": "istio-system", "labels": {"istio": "ingressgateway"}},
    "prometheus": {"namespace": "monitoring", "labels": {"app.kubernetes.io/name": "prometheus"}},
    "tempo": {"namespace": "monitoring", "labels": {"app.kubernetes.io/name": "tempo"}},
    "github": {"fqdns": ["github.com", "*.github.com"]},
    "s3": {"fqdns": ["*.amazonaws.com"]},
    "world": {"entity": "world"},
}


def generate_graph(workloads=1000, seed=1, namespaces=10):
    """A service graph shaped like the seed's, scaled up. Each workload serves one port and calls three
    others, which accept it (sometimes only some HTTP methods); every workload also talks to istiod, tempo,
    Prometheus and DNS; some call an FQDN external, a few accept anything (`all`) on 443 and a few may call
    the whole `cluster` on 443."""
    rng = random.Random(seed)
    names = [f"svc-{i:04d}" for i in range(workloads)]
    ports = {name: rng.choice([80, 8080, 9000, "5432/TCP"]) for name in names}
    callees = {name: rng.sample([n for n in names if n != name], 3) for name in names}
    callers = {name: [] for name in names}
    for name in names:
        for callee in callees[name]:
            callers[callee].append(name)
    graph = {"namespace": "apps-0", "dns": "kube-dns", "externals": dict(EXTERNALS), "workloads": {}}
    for i, name in enumerate(names):
        ingress = [{"from": ["prometheus"], "ports": [9100]}]
        if callers[name]:
            rule = {"from": callers[name], "ports": [ports[name]]}
            if ports[name] == 8080 and rng.random() < 0.5:
                rule["methods"] = rng.sample(["GET", "POST", "PUT", "DELETE"], 2)
            ingress.append(rule)
        if rng.random() < 0.03:
            ingress.append({"from": ["all"], "ports": [443]})
        egress = [{"to": [callee], "ports": [ports[callee]]} for callee in callees[name]]
        egress += [{"to": ["istiod"], "ports": [15012]}, {"to": ["tempo"], "ports": [4317]}]
        if rng.random() < 0.1:
            egress.append({"to": [rng.choice(["github", "s3"])], "ports": [443]})
        if rng.random() < 0.05:
            egress.append({"to": ["cluster"], "ports": [443]})
        graph["workloads"][name] = {"namespace": f"apps-{i % namespaces}", "labels": {"app": name},
                                    "ingress": ingress, "egress": egress}
    return graph


def dense_graph(workloads=1000):
    """Worst case for the matrix: every pair is allowed, every cell needs an intersection."""
    return {"namespace": "apps-0", "dns": "kube-dns", "externals": dict(EXTERNALS), "workloads": {
        f"svc-{i:04d}": {"labels": {"app": f"svc-{i:04d}"}, "ingress": [{"from": ["all"], "ports": [80]}],
                         "egress": [{"to": ["cluster"], "ports": [80, 443]}]} for i in range(workloads)}}


def timed(function, runs):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": runs}


def full_matrix(policies, graph):
    """Decide every pair and materialise the dense grid, as a report of the whole matrix would."""
    checker = PolicyChecker(policies, graph)
    cells = checker.matrix()
    size = len(checker.endpoints)
    grid = [[(a, b) in cells for b in range(size)] for a in range(size)]
    return checker, cells, grid


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-validate", action="store_true", help="skip the schema validation figure")
    args = parser.parse_args(argv)

    graph = generate_graph(args.workloads, args.seed)
    figures = {"workloads": args.workloads}
    policies, figures["compile"] = timed(lambda: cilium_policies(graph), args.runs)
    _, figures["compile-np"] = timed(lambda: k8s_network_policies(graph), args.runs)
    (checker, cells, _), figures["matrix"] = timed(lambda: full_matrix(policies, graph), args.runs)
    figures["endpoints"], figures["allowed_pairs"] = len(checker.endpoints), len(cells)
    dense = dense_graph(args.workloads)
    dense_policies = cilium_policies(dense)
    (_, dense_cells, _), figures["matrix-dense"] = timed(lambda: full_matrix(dense_policies, dense), args.runs)
    figures["dense_allowed_pairs"] = len(dense_cells)
    if not args.no_validate:
        from k8s_validate import Validator
        validator = Validator()
        start = time.perf_counter()
        invalid = sum(1 for doc in policies if validator.validate_document(doc))
        figures["validate"] = {"seconds": time.perf_counter() - start, "invalid": invalid}

    print(f"{args.workloads} workloads, {len(policies)} policies, {figures['endpoints']} endpoints, "
          f"{figures['endpoints'] ** 2} pairs ({figures['allowed_pairs']} allowed); {args.runs} runs each")
    for name in ("compile", "compile-np", "matrix", "matrix-dense"):
        f = figures[name]
        print(f"  {name:<12} median {f['median']:.3f} s   min {f['min']:.3f} s   max {f['max']:.3f} s")
    print(f"  (matrix-dense: {figures['dense_allowed_pairs']} allowed pairs)")
    if "validate" in figures:
        print(f"  validate     {figures['validate']['seconds']:.3f} s (1 run), "
              f"{figures['validate']['invalid']} invalid policies")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 1 if figures.get("validate", {}).get("invalid") else 0


if __name__ == "__main__":
    sys.exit(main())
