#!/usr/bin/env python3
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""`make bench`: converge and re-run times of site.yml on the local lab, written to build/bench.{json,md}.

Figures (each the median of --runs runs, with min and max; wall clock of the whole command):
  cold        lab down, lab up (timed apart), then the first converge of site.yml on 3 nodes (--cold-runs)
  noop-3      site.yml again on the converged 3-node lab; every host must report changed=0 (asserted)
  tag <t>     `--tags <t>` alone on the converged lab, for every tag of README.md's Tags table (changed=0 too)
  render      `make render validate` (both inventories at once, then the validation of every manifest), and
              playbooks/render.yml + tools/k8s_validate.py for inventory/homelab alone and, for reference,
              for both inventories one after the other
  noop-6/12   the no-op re-run on 6 and 12 nodes (tools/bench_inventory.py writes the inventory under
              build/bench/, `LAB_INVENTORY=... lab/lab.sh up` starts the extra nodes, one converge first)
  plugins     tools/bench_plugins.py (policy compile, reachability matrix)
  slowest     the 10 slowest tasks of the 3-node no-op run (profile_tasks, median over its runs)
  ablation    the 3-node no-op re-run again with one of ansible.cfg's speed choices undone at a time (through
              ANSIBLE_* environment variables), and with the free strategy, to show what each choice buys
Afterwards the extra nodes are removed and the 3-node lab is converged again, as `make lab` leaves it.

BENCH_KEEP=1 keeps the figures of the parts skipped now from the last build/bench.json.

Usage: bench_lab.py [--runs 3] [--cold-runs 3] [--skip cold,tags,ablation,scale,render,plugins] [--tags a,b]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from site_tags import readme_tags, site_roles

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench"
LOGS = OUT / "logs"
BIN = Path(sys.executable).parent
LAB_SH = ROOT / "lab" / "lab.sh"
FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"

# Layer tags run a whole layer (several components): reported with their share, not held to the one-part target.
LAYERS = {role["tags"][0] for role in site_roles(ROOT)}
TARGETS = {
    "noop-3": "under 60 s",
    "tag": "each component tag under 25% of noop-3 (layer tags reported)",
    "noop-12": "under 2x noop-3",
    "render": "under 10 s",
}

RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
PROFILE = re.compile(r"^(.*\S) -{3,} (\d+\.\d+)s$", re.M)


class BenchError(RuntimeError):
    pass


def env() -> dict:
    extra = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_VAULT_PASSWORD_FILE": os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE",
                                                      str(ROOT / ".lab" / "vault-password")),
        # Every task's time, so the slowest ones can be ranked over several runs.
        "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
        "PROFILE_TASKS_SORT_ORDER": "descending",
    }
    return dict(os.environ, **extra)


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    ansible = subprocess.run([str(BIN / "ansible-playbook"), "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "load_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ansible": ansible[0] if ansible else "unknown",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def run(command: list[str], log: str, extra_env: dict | None = None) -> tuple[float, str]:
    """Run a command, time it, keep its output under build/bench/logs; fail with the log's tail."""
    LOGS.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=dict(env(), **(extra_env or {})), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    (LOGS / f"{log}.log").write_text(output, encoding="utf-8")
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed (rc {result.returncode}), "
                         f"log build/bench/logs/{log}.log:\n{output[-3000:]}")
    return seconds, output


def playbook(inventory: str, log: str, *args: str, expect_hosts: int | None = None,
             noop: bool = True, extra_env: dict | None = None) -> tuple[float, dict]:
    """ansible-playbook site.yml; with noop, every host of the recap must report changed=0."""
    seconds, output = run([str(BIN / "ansible-playbook"), "-i", inventory, "site.yml", *args], log, extra_env)
    recap = {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
             for m in RECAP.findall(output)}
    if expect_hosts is not None and len(recap) != expect_hosts:
        raise BenchError(f"{log}: {len(recap)} hosts in the recap, expected {expect_hosts} (log {log}.log)")
    bad = {host: r for host, r in recap.items() if r["failed"] or r["unreachable"] or (noop and r["changed"])}
    if bad:
        raise BenchError(f"{log}: not a clean no-op run: {bad} (log build/bench/logs/{log}.log)")
    tasks: dict[str, float] = {}
    for name, value in PROFILE.findall(output.split("TASKS RECAP", 1)[-1]):
        tasks[name] = tasks.get(name, 0.0) + float(value)
    return seconds, tasks


def stats(values: list[float], **extra) -> dict:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2), "runs": len(values), "values": [round(v, 2) for v in values], **extra}


def lab(action: str, inventory: Path | None = None) -> float:
    extra = {"LAB_INVENTORY": str(inventory)} if inventory else None
    seconds, _ = run([str(LAB_SH), action], f"lab-{action}-{inventory.name if inventory else 'lab'}", extra)
    return seconds


def remove_extra_nodes(names: list[str]) -> None:
    """Drop the nodes only the larger inventories have (lab.sh's container and volume names)."""
    for name in names:
        subprocess.run(["docker", "rm", "-f", "-v", f"homelab-lab-{name}"], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", f"homelab-lab-{name}-containerd"], capture_output=True,
                       check=False)
        (ROOT / ".cache" / "facts" / name).unlink(missing_ok=True)


# Each variant undoes one choice of ansible.cfg (or tries one it does not make) for a whole no-op run.
ABLATIONS = {
    "no pipelining": {"ANSIBLE_PIPELINING": "False"},
    "no ControlPersist (one SSH connection per task)": {
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o PreferredAuthentications=publickey -o UserKnownHostsFile=/dev/null"},
    "no fact cache, full facts gathered by every play": {
        "ANSIBLE_GATHERING": "implicit", "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory",
        "ANSIBLE_GATHER_SUBSET": "all"},
    "free strategy in every play": {"ANSIBLE_STRATEGY": "free"},
}


class Bench:
    def __init__(self, args):
        self.args = args
        self.data: dict = {"machine": machine(), "runs": args.runs, "figures": {}, "tags": {}, "scale": {}}

    def save(self) -> None:
        BUILD.mkdir(exist_ok=True)
        (BUILD / "bench.json").write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        (BUILD / "bench.md").write_text(markdown(self.data), encoding="utf-8")

    def say(self, text: str) -> None:
        print(f"bench: {text}", flush=True)

    def figure(self, key: str, values: list[float], label: str, **extra) -> None:
        self.data["figures"][key] = stats(values, label=label, load=load(), **extra)
        f = self.data["figures"][key]
        self.say(f"{label}: median {f['median']} s (min {f['min']}, max {f['max']}, {f['runs']} runs)")
        self.save()

    def cold(self) -> None:
        ups, converges = [], []
        for i in range(self.args.cold_runs):
            lab("down")
            ups.append(lab("up"))
            seconds, _ = playbook("inventory/lab", f"cold-{i + 1}", expect_hosts=3, noop=False)
            converges.append(seconds)
        self.figure("lab-up", ups, "lab down + lab up (3 nodes, image built)")
        self.figure("cold-3", converges, "cold converge of site.yml, 3 nodes")

    def ensure_converged(self) -> None:
        lab("up")
        playbook("inventory/lab", "converge-3", expect_hosts=3, noop=False)

    def noop(self) -> None:
        times, tasks = [], []
        for i in range(self.args.runs):
            seconds, profile = playbook("inventory/lab", f"noop-3-{i + 1}", expect_hosts=3)
            times.append(seconds)
            tasks.append(profile)
        self.figure("noop-3", times, "no-op re-run of site.yml, 3 nodes (changed=0)")
        names = {name for profile in tasks for name in profile}
        ranked = sorted(((statistics.median([p.get(n, 0.0) for p in tasks]), n) for n in names), reverse=True)
        self.data["slowest"] = [{"task": n, "median": round(s, 2),
                                 "min": round(min(p.get(n, 0.0) for p in tasks), 2),
                                 "max": round(max(p.get(n, 0.0) for p in tasks), 2)} for s, n in ranked[:10]]
        self.save()

    def tags(self) -> None:
        for tag in self.args.tags or list(dict.fromkeys(readme_tags(ROOT))):
            times = [playbook("inventory/lab", f"tag-{tag}-{i + 1}", "--tags", tag, expect_hosts=3)[0]
                     for i in range(self.args.runs)]
            self.data["tags"][tag] = stats(times, load=load())
            self.say(f"--tags {tag}: median {self.data['tags'][tag]['median']} s")
            self.save()

    def render(self) -> None:
        """`make render validate` (both inventories at once, then the validation of both), one inventory alone, and
        both one after the other for reference."""
        serial, made, single = [], [], []
        renders = [("lab", []), ("homelab", ["-e", f"@{FAKE_VAULT}"])]
        for i in range(self.args.runs):
            times = [run([str(BIN / "ansible-playbook"), "-i", f"inventory/{inventory}", "playbooks/render.yml",
                          *extra], f"render-{inventory}-{i + 1}")[0] for inventory, extra in renders]
            checked, _ = run([sys.executable, "tools/k8s_validate.py", "build/homelab"], f"validate-homelab-{i + 1}")
            checked_both, _ = run([sys.executable, "tools/k8s_validate.py", "build/lab", "build/homelab"],
                                  f"validate-{i + 1}")
            single.append(times[1] + checked)
            serial.append(sum(times) + checked_both)
            made.append(run(["make", "--no-print-directory", "render", "validate"], f"make-render-{i + 1}")[0])
        self.figure("render-one", single, "render inventory/homelab + validate its manifests")
        self.figure("render", serial, "render both inventories one after the other + validate (reference)")
        self.figure("render-make", made, "`make render validate`: both inventories at once + validate every manifest")

    def plugins(self) -> None:
        out = OUT / "plugins.json"
        run([sys.executable, "tools/bench_plugins.py", "--runs", str(max(self.args.runs, 3)), "--json", str(out)],
            "plugins")
        self.data["plugins"] = json.loads(out.read_text(encoding="utf-8"))
        self.save()

    def scale(self) -> None:
        extra: list[str] = []
        try:
            for nodes in (6, 12):
                inventory = OUT / f"lab-{nodes}"
                run([sys.executable, "tools/bench_inventory.py", str(nodes), str(inventory)], f"inventory-{nodes}")
                extra = [f"k8s-worker{i}" for i in range(3, nodes)]
                up = lab("up", inventory)
                first, _ = playbook(str(inventory), f"converge-{nodes}", expect_hosts=nodes, noop=False)
                times = [playbook(str(inventory), f"noop-{nodes}-{i + 1}", expect_hosts=nodes)[0]
                         for i in range(self.args.runs)]
                self.data["scale"][str(nodes)] = {"lab_up": round(up, 2), "first_converge": round(first, 2)}
                self.figure(f"noop-{nodes}", times, f"no-op re-run of site.yml, {nodes} nodes (changed=0)")
        finally:
            remove_extra_nodes(extra)
            # The three nodes' /etc/hosts listed the larger lab: converge them back to the 3-node lab.
            playbook("inventory/lab", "converge-3-after-scale", expect_hosts=3, noop=False)

    def ablation(self) -> None:
        base = self.data["figures"].get("noop-3", {}).get("median")
        self.data["ablation"] = {}
        for i, (name, extra) in enumerate(ABLATIONS.items()):
            try:
                times = [playbook("inventory/lab", f"ablation-{i + 1}-{run + 1}", expect_hosts=3, extra_env=extra)[0]
                         for run in range(self.args.runs)]
            except BenchError as error:
                # A variant the playbooks cannot run with (the free strategy breaks the plays that read other
                # hosts' results) is a finding too: recorded, and the bench goes on.
                log = (LOGS / f"ablation-{i + 1}-1.log").read_text(encoding="utf-8") if (
                    LOGS / f"ablation-{i + 1}-1.log").is_file() else str(error)
                reason = next((line.strip() for line in log.splitlines() if "[ERROR]" in line),
                              str(error).splitlines()[0])
                self.data["ablation"][name] = {"error": reason[:300], "env": extra}
                self.say(f"no-op with {name}: fails: {reason[:200]}")
                self.save()
                continue
            self.data["ablation"][name] = stats(times, load=load(), env=extra)
            self.say(f"no-op with {name}: median {self.data['ablation'][name]['median']} s (shipped: {base} s)")
            self.save()

    def targets(self) -> None:
        f, t = self.data["figures"], self.data["tags"]
        met = {}
        if "noop-3" in f:
            base = f["noop-3"]["median"]
            met["noop-3 under 60 s"] = base < 60
            components = [tag for tag in t if tag not in LAYERS]
            if components:
                worst = max(components, key=lambda k: t[k]["median"])
                met[f"every component tag under 25% of noop-3 (worst: {worst}, {t[worst]['median']} s, "
                    f"limit {base * 0.25:.1f} s)"] = t[worst]["median"] < base * 0.25
            if "noop-12" in f:
                met[f"noop-12 under 2x noop-3 ({f['noop-12']['median']} s, limit {2 * base:.1f} s)"] = (
                    f["noop-12"]["median"] < 2 * base)
        for key in ("render-one", "render-make"):
            if key in f:
                met[f"{f[key]['label']} under 10 s ({f[key]['median']} s)"] = f[key]["median"] < 10
        self.data["targets"] = met
        self.save()


def markdown(data: dict) -> str:
    m = data["machine"]
    lines = [
        "# make bench", "",
        f"{m['date']}: {m['nproc']} CPU ({m['cpu']}), {m['ram_gib']} GiB RAM, load average at start "
        f"{' '.join(m['load_at_start'])}; {m['ansible']}, Python {m['python']}, kernel {m['kernel']}.",
        *([f"Parts {', '.join(data['kept']['parts'])} kept from the run of {data['kept']['from']} (BENCH_KEEP=1); "
           "the others measured in this run."] if data.get("kept") else []),
        f"Each figure: median of {data['runs']} runs (cold converge: as many as its runs column says), "
        "wall clock in seconds, with min and max; load = 1-minute load average after the figure.", "",
        "| Figure | Median | Min | Max | Runs | Load |", "|---|---:|---:|---:|---:|---:|",
    ]
    for f in data["figures"].values():
        lines.append(f"| {f['label']} | {f['median']:.1f} | {f['min']:.1f} | {f['max']:.1f} | {f['runs']} | "
                     f"{f['load']:.1f} |")
    if data["tags"]:
        base = data["figures"].get("noop-3", {}).get("median")
        lines += ["", "Each tag alone on the converged 3-node lab (changed=0):", "",
                  "| Tag | Kind | Median | Min | Max | % of no-op |", "|---|---|---:|---:|---:|---:|"]
        for tag, f in data["tags"].items():
            share = f"{100 * f['median'] / base:.0f}%" if base else "-"
            kind = "layer" if tag in LAYERS else "component"
            lines.append(f"| `{tag}` | {kind} | {f['median']:.1f} | {f['min']:.1f} | {f['max']:.1f} | {share} |")
    if data.get("plugins"):
        p = data["plugins"]
        lines += ["", f"Policy plugins, {p['workloads']} workloads ({p['endpoints']} endpoints), "
                      f"{p['compile']['runs']} runs:", "", "| Plugin figure | Median | Min | Max |",
                  "|---|---:|---:|---:|"]
        for name in ("compile", "compile-np", "matrix", "matrix-dense"):
            f = p[name]
            lines.append(f"| {name} | {f['median']:.3f} | {f['min']:.3f} | {f['max']:.3f} |")
    if data.get("ablation"):
        base = data["figures"].get("noop-3", {}).get("median")
        lines += ["", f"The 3-node no-op re-run with one speed choice of ansible.cfg undone (shipped: {base} s):", "",
                  "| Variant | Median | Min | Max | vs shipped |", "|---|---:|---:|---:|---:|"]
        for name, f in data["ablation"].items():
            if "error" in f:
                lines.append(f"| {name} | fails | | | {f['error'].replace('|', '/')} |")
                continue
            ratio = f"{f['median'] / base:.2f}x" if base else "-"
            lines.append(f"| {name} | {f['median']:.1f} | {f['min']:.1f} | {f['max']:.1f} | {ratio} |")
    if data.get("slowest"):
        lines += ["", "Slowest tasks of the 3-node no-op run (profile_tasks, seconds):", "",
                  "| Task | Median | Min | Max |", "|---|---:|---:|---:|"]
        for t in data["slowest"]:
            name = t["task"].replace("|", "\\|")
            lines.append(f"| {name} | {t['median']:.2f} | {t['min']:.2f} | {t['max']:.2f} |")
    if data.get("targets"):
        lines += ["", "Targets:", ""]
        lines += [f"- {'met' if ok else 'MISSED'}: {name}" for name, ok in data["targets"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # String defaults go through type=int too, so BENCH_RUNS=x fails with argparse's message, not a traceback.
    parser.add_argument("--runs", type=int, default=os.environ.get("BENCH_RUNS", "3"), help="BENCH_RUNS")
    parser.add_argument("--cold-runs", type=int, default=os.environ.get("BENCH_COLD_RUNS", "3"),
                        help="BENCH_COLD_RUNS")
    parser.add_argument("--skip", default=os.environ.get("BENCH_SKIP", ""),
                        help="comma-separated: cold, tags, ablation, scale, render, plugins")
    parser.add_argument("--tags", default=os.environ.get("BENCH_TAGS", ""), help="only these tags")
    args = parser.parse_args(argv)
    args.tags = [t for t in args.tags.split(",") if t]
    skip = {s for s in args.skip.split(",") if s}
    parts = {"cold", "tags", "ablation", "render", "plugins", "scale"}
    if skip - parts or args.runs < 1 or args.cold_runs < 1:
        parser.error(f"BENCH_SKIP/--skip={args.skip!r}, BENCH_RUNS={args.runs}, BENCH_COLD_RUNS={args.cold_runs}: "
                     f"skip only {', '.join(sorted(parts))}; runs at least 1")
    unknown = set(args.tags) - set(readme_tags(ROOT))
    if unknown:
        parser.error(f"BENCH_TAGS/--tags: {', '.join(sorted(unknown))} not in README.md's Tags table")
    bench = Bench(args)
    previous = BUILD / "bench.json"
    if os.environ.get("BENCH_KEEP") == "1" and previous.is_file():
        # Parts skipped now keep their figures from the last run (its date is kept with them).
        old = json.loads(previous.read_text(encoding="utf-8"))
        bench.data["kept"] = {"from": old["machine"]["date"], "parts": sorted(skip)}
        for key in ("figures", "tags", "scale"):
            bench.data[key] = old.get(key, {})
        for key in ("ablation", "plugins", "slowest"):
            if key in old:
                bench.data[key] = old[key]
    try:
        if "cold" in skip:
            bench.ensure_converged()
        else:
            bench.cold()
        bench.noop()
        if "tags" not in skip:
            bench.tags()
        if "ablation" not in skip:
            bench.ablation()
        if "render" not in skip:
            bench.render()
        if "plugins" not in skip:
            bench.plugins()
        if "scale" not in skip:
            bench.scale()
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        bench.data["error"] = str(error)
        bench.save()
        return 1
    bench.targets()
    bench.data["machine"]["load_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    bench.save()
    print((BUILD / "bench.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
