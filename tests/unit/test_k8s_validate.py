"""tools/k8s_validate.py: strict core schemas, CRD schemas, and unknown kinds failing."""

from __future__ import annotations

import pytest

from k8s_validate import Validator


@pytest.fixture(scope="module")
def validator(crd_location):
    return Validator("1.31", crd_location)


def deployment(**container):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i", **container}]}}}}


def test_valid_core_document_passes(validator):
    assert validator.validate_document(deployment()) == []


def test_unknown_field_fails_strict_core(validator):
    errors = validator.validate_document(deployment(imagePolicy="x"))
    assert errors and "imagePolicy" in errors[0]


def test_custom_resource_is_checked_including_metadata(validator):
    pool = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "p", "namespace": "metallb-system"}, "spec": {"addresses": ["10.0.0.1-10.0.0.9"]}}
    assert validator.validate_document(pool) == []
    assert validator.validate_document({**pool, "spec": {"addresses": ["x"], "bogus": True}})
    assert validator.validate_document({**pool, "metadata": {"name": "p", "labelz": {}}})


def test_unknown_kind_fails(validator):
    errors = validator.validate_document({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert errors and errors[0].startswith("unknown kind Widget")


def test_core_group_lookalike_is_not_mistaken_for_core(validator):
    vpa = {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler", "metadata": {"name": "v"},
           "spec": {"targetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web"},
                    "updatePolicy": {"updateMode": "Off"}}}
    assert validator.validate_document(vpa) == []
    assert validator.validate_document({**vpa, "spec": {**vpa["spec"], "updatePolicy": {"updateMode": "Sometimes"}}})
