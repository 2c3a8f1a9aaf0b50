#!/usr/bin/env python3
"""Give the lab vault a random value for every key of the example vault that it lacks.

Usage: vault_fill.py EXAMPLE PLAIN. PLAIN (a decrypted vault, possibly empty) is rewritten in place when keys
were added; prints how many. Existing values are kept: the lab may already run with them. Keys that the
example leaves empty (the Slack webhook: empty means "no Slack receiver") stay empty. Never prints a value.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import yaml

HEADER = "---\n# The lab's secrets: random, made by lab/secrets.sh, encrypted with .lab/vault-password. Git-ignored.\n"


def fill(example: dict, current: dict, token=lambda: secrets.token_urlsafe(24)) -> tuple[dict, list[str]]:
    """`current` completed with the keys of `example` it lacks, and the names added (in example order)."""
    merged = dict(current)
    added = []
    for key, sample in example.items():
        if key in merged:
            continue
        merged[key] = "" if sample in ("", None) else token()
        added.append(key)
    return merged, added


def load_mapping(text: str, what: str) -> dict:
    data = yaml.safe_load(text) if text.strip() else {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a YAML mapping")
    return data


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    example_path, plain_path = Path(argv[0]), Path(argv[1])
    try:
        example = load_mapping(example_path.read_text(), str(example_path))
        current = load_mapping(plain_path.read_text(), "the lab vault")
    except (ValueError, yaml.YAMLError) as error:
        # The message never quotes the vault's content.
        print(f"vault_fill: {error.__class__.__name__}: cannot read {example_path} or the lab vault",
              file=sys.stderr)
        return 1
    merged, added = fill(example, current)
    if added:
        plain_path.write_text(HEADER + yaml.safe_dump(merged, default_flow_style=False, sort_keys=False))
    print(len(added))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
