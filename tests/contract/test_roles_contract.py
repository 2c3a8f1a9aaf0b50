"""Every role keeps the collection's contract: argument_specs is the single source of its inputs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from site_tags import site_roles  # noqa: E402

ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "main.yml").is_file())
SHARED = {"homelab", "kube", "preflight"}
COMPONENTS = [r for r in ROLES if r not in SHARED]


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _norm(value):
    return " ".join(value.split()) if isinstance(value, str) else value


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    spec = _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    options = spec.get("options") or {}
    defaults_path = ROOT / "roles" / role / "defaults" / "main.yml"
    defaults = (_yaml(defaults_path) or {}) if defaults_path.exists() else {}
    assert sorted(defaults) == sorted(k for k, v in options.items() if not (v or {}).get("required")), \
        f"{role}: defaults/main.yml and meta/argument_specs.yml must list the same variables"
    for name, value in defaults.items():
        assert _norm(options[name].get("default")) == _norm(value), f"{role}: default of {name} differs"
        assert options[name].get("description"), f"{role}: {name} has no description"


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    spec = _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    for name in spec.get("options") or {}:
        assert name.startswith(role + "_"), f"{role}: {name} lacks the {role}_ prefix"


@pytest.mark.parametrize("role", COMPONENTS)
def test_component_has_preflight_entry_point(role):
    specs = _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    assert specs.get("preflight") == specs["main"], f"{role}: preflight entry point must alias main"
    assert (ROOT / "roles" / role / "tasks" / "preflight.yml").is_file()


@pytest.mark.parametrize("role", COMPONENTS)
def test_component_depends_on_homelab(role):
    deps = _yaml(ROOT / "roles" / role / "meta" / "main.yml").get("dependencies") or []
    names = [d["role"] if isinstance(d, dict) else d for d in deps]
    assert "homelab.stack.homelab" in names


def _site_roles():
    """{role: its tags in the site playbooks}, in site order."""
    return {role["name"]: role["tags"] for role in site_roles(ROOT) if role["name"] not in SHARED}


def test_preflight_lists_every_site_role_in_site_order():
    listed = _yaml(ROOT / "roles" / "preflight" / "defaults" / "main.yml")["preflight_component_roles"]
    assert list(listed) == list(_site_roles())


def test_preflight_knows_each_roles_layer_tag_as_the_site_tags_it():
    # preflight selects a role's checks under --tags by the role's own tag or this layer tag.
    listed = _yaml(ROOT / "roles" / "preflight" / "defaults" / "main.yml")["preflight_component_roles"]
    assert {role: sorted([layer, role]) for role, layer in listed.items()} == {
        role: sorted(tags) for role, tags in _site_roles().items()}


def test_role_readmes_are_generated_from_argument_specs():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "role_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
