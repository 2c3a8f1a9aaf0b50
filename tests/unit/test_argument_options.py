"""homelab.stack.argument_options: the preflight role's one validation of every selected role's inputs."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from conftest import ROOT
from ansible_collections.homelab.stack.plugins.module_utils.preflight import argument_options


def _spec(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))


def test_merges_the_entry_point_of_each_role_without_defaults():
    merged = argument_options([_spec("istio"), _spec("os_prep")], "preflight")
    assert merged["istio_mtls_mode"]["choices"] == ["PERMISSIVE", "STRICT"]
    assert merged["os_prep_sysctls"]["type"] == "dict"
    assert not [name for name, option in merged.items() if "default" in option]
    assert set(merged) == set(_spec("istio")["argument_specs"]["main"]["options"]) | set(
        _spec("os_prep")["argument_specs"]["main"]["options"])


def test_the_merged_spec_reports_every_role_s_bad_input_at_once():
    spec = argument_options([_spec("istio"), _spec("os_prep"), _spec("metallb")])
    result = ArgumentSpecValidator(spec).validate({"istio_mtls_mode": "MUTUAL", "os_prep_time_sync": "maybe"})
    assert len(result.error_messages) == 2
    assert "value of istio_mtls_mode must be one of: PERMISSIVE, STRICT, got: MUTUAL" in result.error_messages
    # Unset inputs are not filled in from the spec: the roles' own defaults apply later, in the roles.
    assert result.validated_parameters["metallb_version"] is None


def test_refuses_an_option_two_roles_declare_and_a_missing_entry_point():
    with pytest.raises(ValueError, match="option istio_version is declared by two roles"):
        argument_options([_spec("istio"), _spec("istio")])
    with pytest.raises(ValueError, match="argument spec file 1: no 'restore' entry point"):
        argument_options([_spec("istio")], "restore")

