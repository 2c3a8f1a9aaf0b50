# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Evaluate compiled CiliumNetworkPolicy documents: may endpoint A reach endpoint B on a port?

Semantics (Cilium "default" enforcement mode, as the compiler relies on it; see docs/plugins.md):
- a flow is allowed iff the source's egress allows it AND the destination's ingress allows it;
- an endpoint no policy selects (or whose policies have no rule for a direction and do not set
  enableDefaultDeny for it) is default-allow in that direction;
- rules of every policy selecting an endpoint add up (union); L4-only allows cover every HTTP method;
- CiliumNetworkPolicy selectors are confined to the policy's namespace unless they name
  k8s:io.kubernetes.pod.namespace; an empty rule `{}` allows nothing, a rule with only toPorts allows
  every peer on those ports;
- toFQDNs only works for names the endpoint may resolve through the DNS proxy (an egress rule with
  rules.dns whose pattern matches the name): otherwise Cilium never learns the addresses.
Not evaluated (reported in `warnings`): CIDR, service, group and node peers, deny rules, host policies,
named ports. HTTP path/header rules are ignored: only the method is checked.

The endpoint catalog is the service graph (netpol_graph): its workloads and externals.
Performance: selectors are resolved once through a label index, every policy rule is expanded once into
per-endpoint grant tables, and the matrix visits only the (source, destination) pairs a table names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import (
    CLUSTER_ENTITIES, ENTITIES, PROTOCOLS, Endpoint, Graph, parse_graph)

NS_KEY = "io.kubernetes.pod.namespace"
POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
UNSUPPORTED_PEERS = ("CIDR", "CIDRSet", "Services", "Groups", "Nodes", "Requires")
_DNS_CHARS = "[-a-zA-Z0-9_]"


class CheckError(ValueError):
    """A query or a policy set the checker cannot answer; the message says what to fix."""


class Grant(NamedTuple):
    """What one rule allows towards/from one peer: protocol, port range, L7 constraints, where it comes from."""
    proto: str   # TCP, UDP, SCTP or ANY
    lo: int      # 0..65535 is every port
    hi: int
    l7: tuple    # (("http", methods), ("dns", patterns), ...); every constraint must pass; () = none
    origin: str  # policy/rule that granted it

    def permits(self, port, proto, method):
        if self.proto != "ANY" and self.proto != proto:
            return False
        if not self.lo <= port <= self.hi:
            return False
        return all(_l7_permits(constraint, method) for constraint in self.l7)

    def label(self):
        if self.lo == 0 and self.hi == 65535:
            text = "any port" if self.proto == "ANY" else f"any/{self.proto}"
        else:
            text = (f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}") + f"/{self.proto}"
        for kind, values in self.l7:
            shown = "|".join(v or "*" for v in values)
            text += f" HTTP {shown}" if kind == "http" else f" {kind.upper()} {shown}"
        return text


OPEN = (Grant("ANY", 0, 65535, (), "no policy on either side"),)


def _l7_permits(constraint, method):
    kind, values = constraint
    if method is None:  # an L4 question: the port is open, whatever the proxy then filters
        return True
    if kind != "http":  # a DNS or other L7 proxy drops HTTP requests
        return False
    return any(v == "" or re.fullmatch(v, method) for v in values)


@dataclass
class Decision:
    allowed: bool
    reasons: list = field(default_factory=list)

    def as_dict(self):
        return {"allowed": self.allowed, "reasons": list(self.reasons)}


# -- DNS names ----------------------------------------------------------------------------------------------
def fqdn_regex(pattern):
    """Cilium's matchPattern: '*' is any run of DNS characters within one label, a leading '**.' any number
    of labels, a lone '*' every name. matchName values contain no '*' and match literally."""
    pattern = pattern.lower().rstrip(".")
    if pattern == "*":
        return re.compile(r".+")
    prefix = ""
    if pattern.startswith("**."):
        prefix, pattern = rf"(?:{_DNS_CHARS}+\.)+", pattern[3:]
    body = "".join(f"{_DNS_CHARS}*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile(prefix + body)


def _samples(name):
    """Concrete names standing for a catalog name that may hold wildcards (two, so a selector that
    happens to match one sample only does not count)."""
    if "*" not in name:
        return (name,)
    return tuple(name.replace("**.", f"{s}.{s}.").replace("*", s) for s in ("x", "zz-sample9"))


def names_covered(names, regexes):
    return bool(regexes) and all(any(r.fullmatch(s) for r in regexes) for n in names for s in _samples(n))


def _fqdn_selector_regex(selector):
    name = selector.get("matchName")
    return re.compile(re.escape(name.lower().rstrip("."))) if name else fqdn_regex(selector.get("matchPattern", ""))


# -- the checker ----------------------------------------------------------------------------------------------
class PolicyChecker:
    """Index the policies against the catalog once; then answer flows and build the matrix."""

    def __init__(self, policies, catalog, extra=()):
        graph = catalog if isinstance(catalog, Graph) else parse_graph(catalog)
        self.endpoints = list(graph.endpoints.values()) + [_query_endpoint(n) for n in extra
                                                           if n not in graph.endpoints]
        self.index = {e.name: i for i, e in enumerate(self.endpoints)}
        self.warnings = []
        self.policy_count = 0
        count = len(self.endpoints)
        self.egress = [{} for _ in range(count)]   # source -> {destination: [Grant]}
        self.ingress = [{} for _ in range(count)]  # destination -> {source: [Grant]}
        self.ingress_from = [set() for _ in range(count)]  # source -> destinations naming it in ingress
        self.out_enforced = [False] * count
        self.in_enforced = [False] * count
        self._dns_patterns = [[] for _ in range(count)]
        self._pending_fqdn = []
        self._cache = {}
        self._build_indexes()
        for document in policies or []:
            self._add_document(document)
        self._resolve_fqdn_rules()

    # -- indexes --------------------------------------------------------------------------------------------
    def _build_indexes(self):
        self._pairs, self._keys = {}, {}
        pods, fqdns = set(), set()
        members = {entity: set() for entity in ENTITIES}
        for i, endpoint in enumerate(self.endpoints):
            if endpoint.is_pod:
                pods.add(i)
                for key, value in endpoint.labels + ((NS_KEY, endpoint.namespace),):
                    self._pairs.setdefault((key, value), set()).add(i)
                    self._keys.setdefault(key, set()).add(i)
            elif endpoint.kind == "fqdn":
                fqdns.add(i)
            else:
                members[endpoint.entity].add(i)
        members["all"] = set(range(len(self.endpoints)))
        members["world"] |= fqdns
        members["cluster"] |= pods | {i for e in CLUSTER_ENTITIES for i in members[e]}
        members["none"] = set()
        self._pods = frozenset(pods)
        self._fqdns = sorted(fqdns)
        self._members = {entity: frozenset(found) for entity, found in members.items()}

    def _resolve(self, selector, namespace):
        """Pod endpoints a label selector matches; `namespace` confines it unless it names the namespace."""
        key = (json.dumps(selector, sort_keys=True, default=str), namespace)
        if key not in self._cache:
            self._cache[key] = self._match(selector or {}, namespace)
        return self._cache[key]

    def _match(self, selector, namespace):
        sets, named_ns = [], False
        for raw, value in (selector.get("matchLabels") or {}).items():
            key = _label_key(raw)
            named_ns |= key == NS_KEY
            sets.append(self._pairs.get((key, str(value)), set()))
        for expression in selector.get("matchExpressions") or []:
            key = _label_key(expression.get("key", ""))
            named_ns |= key == NS_KEY
            sets.append(self._expression(key, expression.get("operator"), expression.get("values") or []))
        if namespace is not None and not named_ns:
            sets.append(self._pairs.get((NS_KEY, namespace), set()))
        found = set(self._pods)
        for subset in sorted(sets, key=len):
            found &= subset
        return frozenset(found)

    def _expression(self, key, operator, values):
        chosen = set().union(*(self._pairs.get((key, str(v)), set()) for v in values))
        if operator == "In":
            return chosen
        if operator == "NotIn":
            return self._pods - chosen
        if operator == "Exists":
            return self._keys.get(key, set())
        if operator == "DoesNotExist":
            return self._pods - self._keys.get(key, set())
        self.warnings.append(f"selector operator {operator!r} unknown: it matches nothing here")
        return set()

    # -- policies -------------------------------------------------------------------------------------------
    def _add_document(self, document):
        if not isinstance(document, dict) or document.get("kind") not in POLICY_KINDS:
            return
        self.policy_count += 1
        metadata = document.get("metadata") or {}
        clusterwide = document["kind"] == "CiliumClusterwideNetworkPolicy"
        namespace = None if clusterwide else (metadata.get("namespace") or "default")
        name = metadata.get("name", "?") if clusterwide else f"{namespace}/{metadata.get('name', '?')}"
        specs = ([document["spec"]] if document.get("spec") else []) + list(document.get("specs") or [])
        for position, spec in enumerate(specs):
            self._add_spec(name if len(specs) == 1 else f"{name}#{position}", namespace, spec)

    def _add_spec(self, name, namespace, spec):
        if spec.get("nodeSelector") and not spec.get("endpointSelector"):
            self.warnings.append(f"{name}: host policy (nodeSelector) not evaluated")
            return
        subjects = self._resolve(spec.get("endpointSelector") or {}, namespace)
        if namespace is not None:  # a namespaced policy never selects endpoints of another namespace
            subjects = subjects & self._pairs.get((NS_KEY, namespace), set())
        default_deny = spec.get("enableDefaultDeny") or {}
        for direction in ("ingress", "egress"):
            rules = spec.get(direction) or []
            if spec.get(f"{direction}Deny"):
                self.warnings.append(f"{name}: {direction}Deny rules are not evaluated (results may allow more)")
            enforced = default_deny.get(direction)
            if enforced is True or (enforced is not False and (rules or spec.get(f"{direction}Deny"))):
                flags = self.in_enforced if direction == "ingress" else self.out_enforced
                for i in subjects:
                    flags[i] = True
            for position, rule in enumerate(rules):
                self._add_rule(f"{name} {direction}[{position}]", namespace, direction, subjects, rule or {})

    def _add_rule(self, origin, namespace, direction, subjects, rule):
        grants = self._grants(rule, origin)
        if direction == "egress":
            patterns = [p for port_rule in rule.get("toPorts") or []
                        for p in ((port_rule.get("rules") or {}).get("dns") or [])]
            if patterns:
                regexes = [_fqdn_selector_regex(p) for p in patterns]
                for i in subjects:
                    self._dns_patterns[i].extend(regexes)
            if rule.get("toFQDNs"):
                self._pending_fqdn.append((subjects, [_fqdn_selector_regex(s) for s in rule["toFQDNs"]], grants))
        self._allow(direction, subjects, self._peers(rule, direction, namespace, origin), grants)

    def _peers(self, rule, direction, namespace, origin):
        side = "from" if direction == "ingress" else "to"
        peers, has_l3 = set(), False
        for selector in rule.get(f"{side}Endpoints") or []:
            has_l3 = True
            peers |= self._resolve(selector or {}, namespace)
        for entity in rule.get(f"{side}Entities") or []:
            has_l3 = True
            peers |= self._members.get(entity, frozenset())
        has_l3 |= bool(rule.get("toFQDNs")) and direction == "egress"  # resolved once DNS rules are known
        for kind in UNSUPPORTED_PEERS:
            if rule.get(f"{side}{kind}"):
                has_l3 = True
                self.warnings.append(f"{origin}: {side}{kind} peers are not evaluated (treated as no peer)")
        if not has_l3 and rule.get("toPorts"):
            return set(self._members["all"])  # an L4-only rule allows every peer on its ports
        return peers

    def _grants(self, rule, origin):
        port_rules = rule.get("toPorts") or []
        if not port_rules:
            return [Grant("ANY", 0, 65535, (), origin)]
        grants = []
        for port_rule in port_rules:
            l7 = _l7_constraints(port_rule.get("rules"))
            for port in port_rule.get("ports") or [{"port": "0"}]:
                grant = self._grant(port, l7, origin)
                if grant:
                    grants.append(grant)
        return grants

    def _grant(self, port, l7, origin):
        text = str(port.get("port", "0"))
        if not text.isdigit():
            self.warnings.append(f"{origin}: named port {text!r} not evaluated")
            return None
        low = int(text)
        high = int(port.get("endPort") or low)
        if low == 0:
            low, high = 0, 65535
        return Grant(str(port.get("protocol") or "ANY").upper(), low, high, l7, origin)

    def _allow(self, direction, subjects, peers, grants):
        if not peers or not grants:
            return
        table = self.egress if direction == "egress" else self.ingress
        grants = tuple(grants)  # shared by every cell it reaches: the matrix memoises on identity
        for i in subjects:
            row = table[i]
            for j in peers:
                row[j] = row[j] + grants if j in row else grants
        if direction == "ingress":
            for j in peers:
                self.ingress_from[j].update(subjects)

    def _resolve_fqdn_rules(self):
        """toFQDNs peers: names the selectors cover AND the source may resolve through the DNS proxy."""
        for subjects, selectors, grants in self._pending_fqdn:
            peers = [j for j in self._fqdns if names_covered(self.endpoints[j].fqdns, selectors)]
            by_dns = {}
            for i in subjects:  # sources sharing their DNS rules share the answer
                by_dns.setdefault(tuple(r.pattern for r in self._dns_patterns[i]), []).append(i)
            for sources in by_dns.values():
                dns = self._dns_patterns[sources[0]]
                reachable = {j for j in peers if names_covered(self.endpoints[j].fqdns, dns)}
                for j in peers:
                    if j not in reachable:
                        self.warnings.append(
                            f"{grants[0].origin if grants else '?'}: toFQDNs allows {self.endpoints[j].name} "
                            "but the source has no DNS-proxy rule for it (Cilium never learns its addresses): "
                            "denied")
                self._allow("egress", sources, reachable, grants)

    # -- questions ------------------------------------------------------------------------------------------
    def position(self, name):
        if name not in self.index:
            raise CheckError(f"unknown endpoint {name!r}. Fix: use a workload or external of the graph "
                             f"({', '.join(sorted(self.index))}), an entity, or a DNS name.")
        return self.index[name]

    def allows(self, source, destination, port, protocol="TCP", method=None):
        """Decision for one flow; reasons say which rule (or the absence of policy) decided each side."""
        port, protocol, method = _query(port, protocol, method)
        a, b = self.position(source), self.position(destination)
        out_ok, out_reason = self._side("egress of " + source, self.out_enforced[a], self.egress[a].get(b),
                                        port, protocol, method)
        in_ok, in_reason = self._side("ingress of " + destination, self.in_enforced[b], self.ingress[b].get(a),
                                      port, protocol, method)
        return Decision(out_ok and in_ok, [out_reason, in_reason])

    @staticmethod
    def _side(what, enforced, grants, port, protocol, method):
        if not enforced:
            return True, f"{what}: no policy, default allow"
        for grant in grants or ():
            if grant.permits(port, protocol, method):
                return True, f"{what}: allowed by {grant.origin}"
        hint = f" (open for: {', '.join(sorted({g.label() for g in grants}))})" if grants else ""
        return False, f"{what}: denied, no rule allows {port}/{protocol}{' ' + method if method else ''}{hint}"

    def matrix(self):
        """{(source index, destination index): grants} for every allowed pair; absent pairs are denied.
        Grants of cells where both sides have rules are the intersection; their origin is not tracked
        (allows() tells which rules decide a flow)."""
        cells = {}
        open_in = [j for j, enforced in enumerate(self.in_enforced) if not enforced]
        intersect = _Intersections()
        for a in range(len(self.endpoints)):
            if self.out_enforced[a]:
                for b, out in self.egress[a].items():
                    cell = intersect(out, self.ingress[b].get(a, ())) if self.in_enforced[b] else out
                    if cell:
                        cells[(a, b)] = cell
                continue
            for b in open_in:
                cells[(a, b)] = OPEN
            for b in self.ingress_from[a]:
                if self.in_enforced[b]:
                    cells[(a, b)] = self.ingress[b][a]
        return cells

    def matrix_by_name(self):
        """{source: {destination: [grant labels]}}, allowed pairs only, in catalog order."""
        result = {}
        for (a, b), grants in sorted(self.matrix().items()):
            result.setdefault(self.endpoints[a].name, {})[self.endpoints[b].name] = grant_labels(grants)
        return result


def grant_labels(grants):
    return sorted({grant.label() for grant in grants})


class _Intersections:
    """Intersect grant tuples, memoised on their content (origins aside): broad rules make thousands of
    cells from a handful of distinct grant sets, so each distinct pair is intersected once."""

    def __init__(self):
        self._content = {}  # id(grants) -> interned content; grant tuples live as long as the checker
        self._interned = {}
        self._results = {}

    def _key(self, grants):
        key = self._content.get(id(grants))
        if key is None:
            content = tuple(sorted({g[:4] for g in grants}))
            key = self._content[id(grants)] = self._interned.setdefault(content, content)
        return key

    def __call__(self, egress, ingress):
        pair = (self._key(egress), self._key(ingress))
        if pair not in self._results:
            self._results[pair] = _intersect(*pair)
        return self._results[pair]


def _intersect(egress, ingress):
    """Grants both sides allow: protocols and port ranges intersect, L7 constraints add up."""
    cell = []
    for out in egress:  # both lists hold a few grants: the pairwise loop is cheap
        for inn in ingress:
            proto = inn[0] if out[0] == "ANY" else out[0]
            if inn[0] not in ("ANY", proto):
                continue
            low, high = max(out[1], inn[1]), min(out[2], inn[2])
            if low <= high:
                l7 = out[3] + tuple(c for c in inn[3] if c not in out[3])
                cell.append(Grant(proto, low, high, l7, "egress and ingress rules"))
    return tuple(cell)


def _l7_constraints(rules):
    rules = rules or {}
    constraints = []
    if rules.get("http") is not None:
        constraints.append(("http", tuple(sorted({_method_regex((r or {}).get("method")) for r in rules["http"]}))))
    if rules.get("dns") is not None:
        constraints.append(("dns", tuple((r or {}).get("matchPattern") or (r or {}).get("matchName") or ""
                                         for r in rules["dns"])))
    for kind in ("kafka", "l7"):
        if rules.get(kind):
            constraints.append((kind, ("",)))
    return tuple(constraints)


def _method_regex(method):
    """Cilium matches the method as an extended regular expression; one that does not compile is taken
    literally here (Cilium would reject the policy; the schema check reports it elsewhere)."""
    if not method:
        return ""
    try:
        re.compile(method)
    except re.error:
        return re.escape(method)
    return method


def _label_key(raw):
    """Cilium label keys may carry a source prefix; k8s: and any: both match Kubernetes pod labels."""
    for prefix in ("k8s:", "any:"):
        if raw.startswith(prefix):
            return raw[len(prefix):]
    return raw


def _query_endpoint(name):
    if name in ENTITIES:
        return Endpoint(name=name, kind="entity", entity=name)
    if "." in name:
        return Endpoint(name=name, kind="fqdn", fqdns=(name.lower().rstrip("."),))
    raise CheckError(f"unknown endpoint {name!r}. Fix: use a workload or external of the graph, an entity "
                     f"({', '.join(ENTITIES)}) or a DNS name such as api.github.com.")


def _query(port, protocol, method):
    if isinstance(port, bool) or not isinstance(port, (int, str)) or not str(port).isdigit() \
            or not 1 <= int(port) <= 65535:
        raise CheckError(f"port={port!r} is not a port number. Fix: give 1-65535.")
    protocol = str(protocol or "TCP").upper()
    if protocol not in PROTOCOLS:
        raise CheckError(f"protocol={protocol!r} is unknown. Fix: use one of {', '.join(PROTOCOLS)}.")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise CheckError(f"method={method!r} is not an HTTP method. Fix: use e.g. GET, or leave it out.")
    return int(port), protocol, method.upper() if method else None


def check_flow(policies, catalog, source, destination, port, protocol="TCP", method=None):
    """One-shot query; names that are neither in the catalog nor entities are taken as DNS names."""
    graph = catalog if isinstance(catalog, Graph) else parse_graph(catalog)
    extra = [n for n in (source, destination) if n not in graph.endpoints]
    return PolicyChecker(policies, graph, extra).allows(source, destination, port, protocol, method)
