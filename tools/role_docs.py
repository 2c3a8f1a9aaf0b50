#!/usr/bin/env python3
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Write (or check) the variables table of every role README from its meta/argument_specs.yml.

The table sits between <!-- BEGIN VARIABLES --> and <!-- END VARIABLES --> in roles/<role>/README.md.
Usage: role_docs.py --write | --check
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN VARIABLES -->", "<!-- END VARIABLES -->"


def _cell(value):
    if value == "":
        return '""'
    if isinstance(value, str):
        text = " ".join(value.split())
    else:
        text = yaml.safe_dump(value, default_flow_style=True, width=10000).strip()
        text = text[:-4].strip() if text.endswith("\n...") or text.endswith("...") else text
    return text.replace("|", "\\|")


def table(spec):
    specs = spec.get("argument_specs", {})
    # kube and homelab document their inputs under `preflight` only (validated once per run, not per dependency).
    options = (specs.get("main") or specs.get("preflight") or {}).get("options") or {}
    if not options:
        return "This role has no variables of its own."
    lines = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name in options:
        opt = options[name] or {}
        kind = opt.get("type", "str") + (f" of {opt['elements']}" if opt.get("elements") else "")
        if opt.get("choices"):
            kind += " (" + ", ".join(str(c) for c in opt["choices"]) + ")"
        default = "required" if opt.get("required") else f"`{_cell(opt.get('default'))}`"
        description = opt.get("description", "")
        if isinstance(description, list):
            description = " ".join(description)
        marker = " Secret: set it in vault." if opt.get("no_log") else ""
        lines.append(f"| `{name}` | {kind} | {default} | {_cell(description)}{marker} |")
    return "\n".join(lines)


def render(readme_text, spec):
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme_text):
        raise ValueError(f"missing {BEGIN} ... {END} markers")
    return pattern.sub(lambda _: f"{BEGIN}\n{table(spec)}\n{END}", readme_text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for spec_path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = spec_path.parent.parent
        readme = role / "README.md"
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        try:
            new = render(readme.read_text(encoding="utf-8"), spec)
        except (OSError, ValueError) as exc:
            print(f"{readme}: {exc}")
            return 1
        if new != readme.read_text(encoding="utf-8"):
            stale.append(str(readme.relative_to(ROOT)))
            if args.write:
                readme.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date (run `make docs`): " + ", ".join(stale))
        return 1
    print(("updated: " + ", ".join(stale)) if args.write and stale else "role READMEs are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
