"""module_utils/canary.py and the canary_steps / canary_managed_routes filters."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.canary_managed_routes import FilterModule as RouteFilters
from ansible_collections.homelab.stack.plugins.filter.canary_steps import FilterModule as StepFilters
from ansible_collections.homelab.stack.plugins.module_utils.canary import (
    CanaryError, canary_managed_routes, canary_steps, duration_seconds)
pytest_plugins = ["plugin_fixtures"]  # the seed_graph and validator fixtures

WEB = {"weights": [10, 50, 90], "pause": "30s",
       "header_route": {"name": "canary-header", "header": "x-canary-test", "value": "true"},
       "mirror_route": {"name": "mirror-stable", "percentage": 100}}
WAS = {"weights": [20, 50, 80], "pause": "1m"}


def test_seed_web_rollout_steps():
    assert canary_steps(WEB) == [
        {"setHeaderRoute": {"name": "canary-header",
                            "match": [{"headerName": "x-canary-test", "headerValue": {"exact": "true"}}]}},
        {"setMirrorRoute": {"name": "mirror-stable", "percentage": 100, "match": [{"path": {"prefix": "/"}}]}},
        {"setWeight": 10}, {"pause": {"duration": "30s"}},
        {"setWeight": 50}, {"pause": {"duration": "30s"}},
        {"setWeight": 90}, {"pause": {"duration": "30s"}},
        {"setHeaderRoute": {"name": "canary-header"}},  # no match: Argo Rollouts removes the route
        {"setMirrorRoute": {"name": "mirror-stable"}},
    ]
    assert canary_managed_routes(WEB) == [{"name": "canary-header"}, {"name": "mirror-stable"}]


def test_seed_was_rollout_has_only_weights():
    assert canary_steps(WAS) == [{"setWeight": 20}, {"pause": {"duration": "1m"}}, {"setWeight": 50},
                                 {"pause": {"duration": "1m"}}, {"setWeight": 80}, {"pause": {"duration": "1m"}}]
    assert canary_managed_routes(WAS) == []


def test_pause_overrides_manual_pause_and_route_options():
    spec = {"weights": [5, {"weight": 25, "pause": 45}, {"weight": 60}], "pause": "manual",
            "header_route": {"name": "h", "header": "x-user", "value": "beta-", "match": "prefix"},
            "mirror_route": {"name": "m", "percentage": 20, "path_prefix": "/api", "methods": ["GET", "HEAD"]}}
    steps = canary_steps(spec)
    assert steps[0]["setHeaderRoute"]["match"] == [{"headerName": "x-user", "headerValue": {"prefix": "beta-"}}]
    assert steps[1]["setMirrorRoute"] == {"name": "m", "percentage": 20, "match": [
        {"path": {"prefix": "/api"}, "method": {"exact": "GET"}},
        {"path": {"prefix": "/api"}, "method": {"exact": "HEAD"}}]}
    assert steps[2:8] == [{"setWeight": 5}, {"pause": {}}, {"setWeight": 25}, {"pause": {"duration": 45}},
                          {"setWeight": 60}, {"pause": {}}]


def test_only_a_header_route():
    spec = {"weights": [50], "pause": "2h", "header_route": WEB["header_route"]}
    kinds = [next(iter(step)) for step in canary_steps(spec)]
    assert kinds == ["setHeaderRoute", "setWeight", "pause", "setHeaderRoute"]
    assert canary_managed_routes(spec) == [{"name": "canary-header"}]


def test_steps_and_routes_make_a_valid_rollout(validator):
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web", "namespace": "b"},
               "spec": {"selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "web", "image": "nginx:alpine"}]}},
                        "strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
                                                "steps": canary_steps(WEB), "trafficRouting": {
                                                    "managedRoutes": canary_managed_routes(WEB),
                                                    "istio": {"virtualService": {"name": "web-vsvc"}}}}}}}
    assert validator.validate_document(rollout) == []
    rollout["spec"]["strategy"]["canary"]["steps"][2]["setWeight"] = "10"  # the check can fail
    assert validator.validate_document(rollout)


@pytest.mark.parametrize("value, seconds", [(30, 30), ("30", 30), ("30s", 30), ("1m", 60), ("2h", 7200),
                                            ("1h30m", 5400), ("1m5s", 65)])
def test_durations(value, seconds):
    assert duration_seconds(value) == seconds


def _spec(**changes):
    spec = {key: value for key, value in dict(WEB, **changes).items() if value is not None}
    return spec


BAD = {
    "weights not increasing": (_spec(weights=[10, 50, 50]),
                               "weights[2]=50 does not increase on the previous weight 50"),
    "weights decreasing": (_spec(weights=[50, 10]), "weights[1]=10 does not increase"),
    "weight zero": (_spec(weights=[0, 50]), "weights[0]=0 must be an integer from 1 to 99"),
    "weight 100": (_spec(weights=[50, 100]), "weights[1]=100 must be an integer from 1 to 99"),
    "weight text": (_spec(weights=["10"]), "weights[0]='10' must be an integer"),
    "weight bool": (_spec(weights=[True]), "weights[0]=True must be an integer"),
    "empty weights": (_spec(weights=[]), "weights=[] must be a non-empty list"),
    "no weights": (_spec(weights=None), "weights=None must be a non-empty list"),
    "bad unit": (_spec(pause="30x"), "pause='30x' is not a duration"),
    "fraction": (_spec(pause="1.5h"), "pause='1.5h' is not a duration"),
    "milliseconds": (_spec(pause="300ms"), "pause='300ms' is not a duration"),
    "zero pause": (_spec(pause="0s"), "pause='0s' is not positive"),
    "negative pause": (_spec(pause=-5), "pause=-5 is not positive"),
    "bool pause": (_spec(pause=True), "pause=True is not a duration"),
    "bad item pause": (_spec(weights=[10, {"weight": 20, "pause": "soon"}]),
                       "weights[1].pause='soon' is not a duration"),
    "no pause": (_spec(pause=None), "weights[0] has no pause. Fix: set pause"),
    "unknown key": (_spec(steps=[]), "canary spec: unknown key(s) 'steps'. Fix: use only weights, pause"),
    "unknown weight key": (_spec(weights=[{"weight": 10, "wait": "1m"}]), "weights[0]: unknown key(s) 'wait'"),
    "unknown header key": (_spec(header_route={"name": "h", "header": "x", "value": "1", "exact": "1"}),
                           "header_route: unknown key(s) 'exact'"),
    "header value not a string": (_spec(header_route={"name": "h", "header": "x-canary", "value": True}),
                                  "header_route.value=True must be a non-empty string. Fix: quote it"),
    "bad header name": (_spec(header_route={"name": "h", "header": "x canary", "value": "1"}),
                        "header_route.header='x canary' is not an HTTP header name"),
    "bad match": (_spec(header_route={"name": "h", "header": "x", "value": "1", "match": "glob"}),
                  "header_route.match='glob' is unknown"),
    "bad route name": (_spec(mirror_route={"name": "Mirror Stable"}), "mirror_route.name='Mirror Stable'"),
    "same route names": (_spec(mirror_route={"name": "canary-header"}), "both 'canary-header'"),
    "percentage": (_spec(mirror_route={"name": "m", "percentage": 0}), "mirror_route.percentage=0 must be"),
    "mirror methods": (_spec(mirror_route={"name": "m", "methods": ["get"]}), "mirror_route.methods=['get']"),
    "path prefix": (_spec(mirror_route={"name": "m", "path_prefix": "api"}), "path_prefix='api' must start with '/'"),
    "not a mapping": ([10, 50], "canary spec=[10, 50] must be a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_specs_are_rejected_with_field_value_and_fix(case):
    spec, message = BAD[case]
    with pytest.raises(CanaryError) as caught:
        canary_steps(spec)
    assert message in str(caught.value)
    with pytest.raises(CanaryError):
        canary_managed_routes(spec)  # both filters validate the whole spec


def test_filters_wrap_errors():
    steps = StepFilters().filters()["canary_steps"]
    routes = RouteFilters().filters()["canary_managed_routes"]
    assert len(steps(WEB)) == 10 and routes(WEB) == [{"name": "canary-header"}, {"name": "mirror-stable"}]
    with pytest.raises(AnsibleFilterError, match="does not increase"):
        steps(_spec(weights=[50, 10]))
    with pytest.raises(AnsibleFilterError, match="must be an integer from 1 to 99"):
        routes(_spec(weights=[100]))
