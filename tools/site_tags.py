# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""The site's roles and tags, read where they are defined: the plays site.yml imports, and README.md's Tags table.

Shared by make bench (which tags to time), the contract tests (preflight's role list) and the molecule site
scenario (what each tag must run), so all three read the playbooks the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def site_roles(root: Path = ROOT) -> list[dict]:
    """Every role the plays site.yml imports include, in site order: name (without the collection), the tags its
    tasks run under (the include's `apply`), the include's own tags (the same, or more where the role's `always`
    part must run under other tags too), whether Ansible validates the argument spec again, the playbook's file
    name, and whether its play runs on the controller (connection local)."""
    entries = []
    for entry in yaml.safe_load((root / "site.yml").read_text(encoding="utf-8")):
        path = root / entry["ansible.builtin.import_playbook"]
        playbook = yaml.safe_load(path.read_text(encoding="utf-8"))
        for play in playbook:
            for task in play.get("tasks") or []:
                include = task.get("ansible.builtin.include_role")
                if include:
                    entries.append({"name": include["name"].rsplit(".", 1)[-1],
                                    "tags": list((include.get("apply") or {}).get("tags", [])),
                                    "include_tags": list(task.get("tags", [])),
                                    "validates": include.get("rolespec_validate", True), "playbook": path.name,
                                    "controller": play.get("connection") == "local"})
    return entries


def readme_tags(root: Path = ROOT) -> list[str]:
    """The tags of README.md's Tags table, in table order (component tags, then the layer tags), as written:
    a tag listed twice comes twice (the site scenario asserts it does not)."""
    text = (root / "README.md").read_text(encoding="utf-8")
    if "\n## Tags\n" not in text:
        raise ValueError("README.md has no '## Tags' section")
    section = text.split("\n## Tags\n", 1)[1].split("\n## ", 1)[0]
    tags: list[str] = []
    for line in section.splitlines():
        if line.startswith("| `"):
            tags += re.findall(r"`([a-z_]+)`", line.split("|")[1])
    return tags
