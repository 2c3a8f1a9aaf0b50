"""Fixtures of the plugin tests (imported by each test module: a second conftest.py would shadow the
root one, whose ROOT and tool() other test modules import): the seed service graph and the schema validator."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
SEED_GRAPH = yaml.safe_load((HERE / "seed_graph.yml").read_text(encoding="utf-8"))


@pytest.fixture
def seed_graph():
    """A fresh copy of the seed's blog-system graph (tests may change it)."""
    return copy.deepcopy(SEED_GRAPH)


@pytest.fixture(scope="session")
def validator(crd_location):
    from k8s_validate import Validator
    return Validator(crd_location=crd_location)
