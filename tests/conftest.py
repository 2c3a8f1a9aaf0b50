"""Shared pytest setup: the repository importable as ansible_collections.homelab.stack, and common paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".collections"
if not (COLLECTIONS / "ansible_collections" / "homelab" / "stack").exists():
    raise RuntimeError("run `make setup` first: .collections/ansible_collections/homelab/stack is missing")
sys.path.insert(0, str(COLLECTIONS))
sys.path.insert(0, str(ROOT / "tools"))

BUILD = ROOT / "build"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Absolute path of a console script of the test's virtualenv (ansible-playbook, molecule, ...)."""
    return str(VENV_BIN / name)
ENVIRONMENTS = ("lab", "homelab")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def crd_location() -> str:
    return os.environ.get("HOMELAB_CRD_SCHEMAS") or str(ROOT.parent / "shared" / "crd-schemas")


def build_dir(env: str) -> Path:
    """build/<env>, rendered by `make render` (the Makefile runs it before pytest)."""
    path = BUILD / env
    if not path.is_dir():
        raise RuntimeError(f"{path} is missing: run `make render` first")
    return path
