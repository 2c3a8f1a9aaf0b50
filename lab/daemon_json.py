#!/usr/bin/env python3
"""Register an OCI runtime as dockerd's default in /etc/docker/daemon.json, keeping every other setting.

Usage: daemon_json.py FILE NAME PATH. Exit 0 and prints "changed" or "unchanged"; the file is only written when
its content has to change, so dockerd is only reloaded when needed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def with_runtime(config: dict, name: str, path: str) -> dict:
    """A copy of the daemon configuration whose default runtime is `name` at `path`."""
    merged = json.loads(json.dumps(config))
    runtimes = merged.setdefault("runtimes", {})
    if not isinstance(runtimes, dict):
        raise ValueError("daemon.json: 'runtimes' is not an object")
    runtimes[name] = {**runtimes.get(name, {}), "path": path}
    merged["default-runtime"] = name
    return merged


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    file, name, path = Path(argv[0]), argv[1], argv[2]
    text = file.read_text() if file.exists() else ""
    current = json.loads(text) if text.strip() else {}
    if not isinstance(current, dict):
        print(f"daemon_json: {file} is not a JSON object", file=sys.stderr)
        return 1
    wanted = with_runtime(current, name, path)
    if wanted == current:
        print("unchanged")
        return 0
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(file.name + ".tmp")
    temporary.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, file)
    print("changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
