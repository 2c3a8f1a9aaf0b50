# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Argo Rollouts canary steps from a short spec. Pure functions, no Ansible import.

Spec: {weights: [10, 50, 90] (or {weight: 10, pause: 45s} items), pause: 30s | 1m | 2h | <seconds> | manual,
       header_route: {name, header, value, match?: exact|prefix|regex},
       mirror_route: {name, percentage?: 100, path_prefix?: "/", methods?: [GET, ...]}}

Steps (strategy.canary.steps): the header route and the mirror route first, then setWeight + pause for each
weight, then both routes removed (setHeaderRoute / setMirrorRoute without `match` deletes the route), so the
promotion to 100 % leaves no canary-only route behind. managedRoutes lists the routes in precedence order:
the header route above the mirror route, or requests carrying the header would match the mirror route
(which matches every path) first and never reach the canary.
"""

from __future__ import annotations

import re

SPEC_KEYS = ("weights", "pause", "header_route", "mirror_route")
WEIGHT_KEYS = ("weight", "pause")
HEADER_KEYS = ("name", "header", "value", "match")
MIRROR_KEYS = ("name", "percentage", "path_prefix", "methods")
MATCH_TYPES = ("exact", "prefix", "regex")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
MANUAL = "manual"
# Argo Rollouts accepts an int (seconds) or a Go duration; only the units its docs list (s, m, h) here.
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ROUTE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an HTTP token (RFC 9110)


class CanaryError(ValueError):
    """Invalid canary spec; the message names the field, the value and the fix."""


def duration_seconds(value, field="pause"):
    """Seconds of an Argo duration (30, '30', '30s', '1m', '1h30m'); CanaryError when invalid or zero."""
    fix = (f"{field}={value!r} is not a duration. Fix: write seconds as an integer (30) or a number with "
           f"unit s, m or h (30s, 1m, 2h, 1h30m), or {MANUAL} to wait for a manual promotion.")
    if isinstance(value, bool):
        raise CanaryError(fix)
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.isdigit():
        seconds = int(value)
    elif isinstance(value, str) and value and _DURATION.match(value):
        hours, minutes, secs = (int(part or 0) for part in _DURATION.match(value).groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise CanaryError(fix)
    if seconds <= 0:
        raise CanaryError(f"{field}={value!r} is not positive. Fix: pause at least 1s, or use {MANUAL}.")
    return seconds


def _pause_step(value, field):
    if value == MANUAL:
        return {"pause": {}}  # no duration: the rollout waits for `kubectl argo rollouts promote`
    duration_seconds(value, field)
    return {"pause": {"duration": value}}


def _check_keys(data, allowed, field):
    if not isinstance(data, dict):
        raise CanaryError(f"{field}={data!r} must be a mapping with keys {', '.join(allowed)}.")
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise CanaryError(f"{field}: unknown key(s) {', '.join(map(repr, unknown))}. Fix: use only "
                          f"{', '.join(allowed)}.")


def _weights(spec):
    weights = spec.get("weights")
    if not isinstance(weights, list) or not weights:
        raise CanaryError(f"weights={weights!r} must be a non-empty list of percentages. Fix: e.g. "
                          "weights: [10, 50, 90].")
    steps, previous = [], 0
    for index, item in enumerate(weights):
        field = f"weights[{index}]"
        weight, pause, pause_field = item, spec.get("pause"), "pause"
        if isinstance(item, dict):
            _check_keys(item, WEIGHT_KEYS, field)
            weight = item.get("weight")
            if "pause" in item:
                pause, pause_field = item["pause"], f"{field}.pause"
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 99:
            raise CanaryError(f"{field}={weight!r} must be an integer from 1 to 99 (100 % is the promotion "
                              "itself). Fix: e.g. 10.")
        if weight <= previous:
            raise CanaryError(f"{field}={weight} does not increase on the previous weight {previous}. Fix: list "
                              "weights in strictly increasing order.")
        if pause is None:
            raise CanaryError(f"{field} has no pause. Fix: set pause (e.g. pause: 30s) at the top level or "
                              f"write {{weight: {weight}, pause: 30s}}.")
        steps += [{"setWeight": weight}, _pause_step(pause, pause_field)]
        previous = weight
    return steps


def _route_name(route, field):
    name = route.get("name")
    if not isinstance(name, str) or not _ROUTE_NAME.match(name):
        raise CanaryError(f"{field}.name={name!r} is not a route name. Fix: lower-case letters, digits and '-', "
                          "such as canary-header.")
    return name


def _header_route(route):
    _check_keys(route, HEADER_KEYS, "header_route")
    name = _route_name(route, "header_route")
    header, value, kind = route.get("header"), route.get("value"), route.get("match", "exact")
    if not isinstance(header, str) or not _HEADER.match(header):
        raise CanaryError(f"header_route.header={header!r} is not an HTTP header name. Fix: e.g. x-canary-test.")
    if not isinstance(value, str) or not value:
        raise CanaryError(f"header_route.value={value!r} must be a non-empty string. Fix: quote it, e.g. "
                          "value: \"true\".")
    if kind not in MATCH_TYPES:
        raise CanaryError(f"header_route.match={kind!r} is unknown. Fix: use one of {', '.join(MATCH_TYPES)}.")
    return name, [{"headerName": header, "headerValue": {kind: value}}]


def _mirror_route(route):
    _check_keys(route, MIRROR_KEYS, "mirror_route")
    name = _route_name(route, "mirror_route")
    percentage, prefix = route.get("percentage", 100), route.get("path_prefix", "/")
    methods = route.get("methods") or []
    if isinstance(percentage, bool) or not isinstance(percentage, int) or not 1 <= percentage <= 100:
        raise CanaryError(f"mirror_route.percentage={percentage!r} must be an integer from 1 to 100. Fix: e.g. 100.")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise CanaryError(f"mirror_route.path_prefix={prefix!r} must start with '/'. Fix: e.g. \"/\".")
    if not isinstance(methods, list) or any(m not in HTTP_METHODS for m in methods):
        raise CanaryError(f"mirror_route.methods={methods!r} must list upper-case HTTP methods "
                          f"({', '.join(HTTP_METHODS)}).")
    path = {"path": {"prefix": prefix}}
    match = [dict(path, method={"exact": m}) for m in methods] or [path]
    return name, percentage, match


def _routes(spec):
    """(header, mirror) parsed routes, each None when not asked for."""
    _check_keys(spec, SPEC_KEYS, "canary spec")
    header = _header_route(spec["header_route"]) if spec.get("header_route") is not None else None
    mirror = _mirror_route(spec["mirror_route"]) if spec.get("mirror_route") is not None else None
    if header and mirror and header[0] == mirror[0]:
        raise CanaryError(f"header_route.name and mirror_route.name are both {header[0]!r}. Fix: give each "
                          "route its own name.")
    return header, mirror


def canary_steps(spec):
    """Canary spec -> the list for Rollout spec.strategy.canary.steps."""
    header, mirror = _routes(spec)
    weights = _weights(spec)
    start, finish = [], []
    if header:
        start.append({"setHeaderRoute": {"name": header[0], "match": header[1]}})
        finish.append({"setHeaderRoute": {"name": header[0]}})  # no match: the route is removed
    if mirror:
        start.append({"setMirrorRoute": {"name": mirror[0], "percentage": mirror[1], "match": mirror[2]}})
        finish.append({"setMirrorRoute": {"name": mirror[0]}})
    return start + weights + finish


def canary_managed_routes(spec):
    """Canary spec -> Rollout spec.strategy.canary.trafficRouting.managedRoutes (precedence order)."""
    header, mirror = _routes(spec)
    _weights(spec)  # same validation as canary_steps: a bad spec fails whichever filter runs first
    return [{"name": route[0]} for route in (header, mirror) if route]
