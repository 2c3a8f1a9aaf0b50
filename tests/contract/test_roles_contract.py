"""Every role keeps the collection's contract: argument_specs is the single source of its inputs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
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


def _inputs_spec(role):
    """A role's inputs: its `main` entry point, or `preflight` for the shared roles only preflight validates."""
    specs = _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    if role in ("kube", "homelab"):
        assert "main" not in specs, f"{role}: a main entry point is validated again in every play that pulls it in"
        return specs["preflight"]
    return specs["main"]


def _norm(value):
    return " ".join(value.split()) if isinstance(value, str) else value


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    spec = _inputs_spec(role)
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
    spec = _inputs_spec(role)
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


# Keys whose whole string is a Jinja expression (elsewhere only {{ }} and {% %} blocks are).
EXPRESSION_KEYS = {"when", "that", "failed_when", "changed_when", "until", "loop"}
JINJA_BLOCK = re.compile(r"{{.*?}}|{%.*?%}", re.S)
STRING = re.compile(r"'[^']*'|\"[^\"]*\"")


def _defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (_yaml(path) or {}) if path.exists() else {}


def _expressions(node, key=None):
    """Every Jinja expression in a YAML tree: the blocks of each string, or the whole string under a condition."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _expressions(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _expressions(v, key)
    elif isinstance(node, str):
        yield from ([node] if key in EXPRESSION_KEYS else JINJA_BLOCK.findall(node))


def _role_expressions(role):
    base = ROOT / "roles" / role
    for path in sorted([*base.glob("defaults/*.yml"), *base.glob("vars/*.yml"), *base.glob("tasks/*.yml")]):
        for expression in _expressions(_yaml(path)):
            yield path, expression
    for path in sorted(base.glob("templates/**/*.j2")):
        for expression in JINJA_BLOCK.findall(path.read_text(encoding="utf-8")):
            yield path, expression


def _foreign_reads():
    """(role, path, variable, owner, fallback or None) for every read of another component role's variable."""
    owners = {name: role for role in COMPONENTS for name in _defaults(role)}
    reads = []
    # preflight is left out: its version check passes '' for an unset pin on purpose (version_errors reads it as
    # the role's default pin, tested in tests/unit).
    for role in COMPONENTS:
        for path, expression in _role_expressions(role):
            # String literals set aside first: a message naming a variable does not read it.
            literals = []
            code = STRING.sub(lambda m: literals.append(m.group(0)) or f"__{len(literals) - 1}__", expression)
            for match in re.finditer(r"(?<![\w.])([a-z][a-z0-9_]*)\b(\s*\|\s*default\(([^()]*)\))?", code):
                name = match.group(1)
                if owners.get(name, role) != role:
                    fallback = match.group(3)
                    if fallback is not None:
                        fallback = re.sub(r"__(\d+)__", lambda m: literals[int(m.group(1))], fallback).strip()
                    reads.append((role, path.relative_to(ROOT), name, owners[name],
                                  None if fallback is None else yaml.safe_load(fallback or "null")))
    return reads


def test_reads_of_another_roles_variables_fall_back_to_its_default():
    # The site includes each role on its own (include_role), so a role never sees another role's defaults: a
    # variable another role owns is defined only when the inventory sets it, and the fallback must then be the
    # owner's own default, or the two roles would disagree whenever the inventory leaves it alone.
    reads = _foreign_reads()
    assert reads, "expected some cross-role reads (istio reads cert_manager_enabled)"
    for role, path, name, owner, fallback in reads:
        assert fallback is not None, f"{path}: reads {name} (owned by {owner}) without | default(<{owner}'s default>)"
        assert fallback == _defaults(owner)[name], \
            f"{path}: {name} | default({fallback!r}) differs from {owner}'s default {_defaults(owner)[name]!r}"


def test_site_roles_carry_their_tags_inside_and_are_validated_by_preflight_first():
    # apply: tags is what a role's own tasks run under; the include's tags only decide whether it is included:
    # the same tags, or more for os_prep, whose `always` part (the supported-OS check) runs under every host and
    # cluster tag.
    roles = site_roles(ROOT)
    widened = {role["name"]: role["include_tags"] for role in roles if role["include_tags"] != role["tags"]}
    assert widened == {"os_prep": ["host", "os_prep", "containerd", "kube_packages", "cluster", "control_plane",
                                   "join"]}, widened
    assert all(set(role["include_tags"]) >= set(role["tags"]) for role in roles), roles
    unvalidated = {role["playbook"] for role in roles if role["validates"] is False}
    assert unvalidated >= {"host.yml", "platform.yml"}
    for playbook in [ROOT / "site.yml", *sorted((ROOT / "playbooks").glob("*.yml"))]:
        imports = [Path(entry["ansible.builtin.import_playbook"]).name for entry in _yaml(playbook)
                   if "ansible.builtin.import_playbook" in entry]
        layers = [i for i, name in enumerate(imports) if name in unvalidated]
        if layers:
            assert "preflight.yml" in imports[:layers[0]], \
                f"{playbook.name} imports {imports[layers[0]]}, whose roles skip their argument check, before preflight"



@pytest.mark.parametrize("role", ROLES)
def test_defaults_satisfy_the_argument_spec(role):
    # Preflight validates what the inventory sets (homelab.stack.argument_options drops the defaults, which only
    # the role can resolve), so the roles' own literal defaults are checked here, against the same spec.
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    options = _inputs_spec(role).get("options")
    literal = {name: value for name, value in _defaults(role).items() if "{{" not in json.dumps(value)}
    result = ArgumentSpecValidator({name: {k: v for k, v in spec.items() if k not in ("default", "description")}
                                    for name, spec in (options or {}).items()}).validate(literal)
    assert not result.error_messages, f"{role}: {result.error_messages}"
