# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Bootstrap tokens and join commands for kubeadm: the logic behind the homelab.stack.kubeadm_token module.

Standard library only (it runs on the nodes with Debian's python3). Everything that talks to kubeadm goes
through a `run(argv) -> (rc, stdout, stderr)` callable and every file read through `read(path) -> bytes`,
so tests drive it with fakes. The kubeadm invocations are listed in docs/plugins.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
from datetime import datetime, timedelta, timezone

TOKEN_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
CERT_KEY_RE = re.compile(r"^[a-f0-9]{64}$")
JOIN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
# kubeadm join uses the token twice: to check the signed cluster-info (signing) and for TLS bootstrap
# (authentication); RBAC lets only JOIN_GROUP create node CSRs.
JOIN_USAGES = frozenset(("authentication", "signing"))
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)


class TokenError(Exception):
    """Something kubeadm or the inputs did not allow; the message says what and how to fix it."""


# -- values -------------------------------------------------------------------------------------------------
def parse_duration(value, option):
    """'1h', '10m', '1h30m', '90s', '0' or an integer of seconds -> seconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or not match:
        raise TokenError(f"{option}={value!r} is not a duration. Fix: write it like 1h, 10m, 1h30m or 90s.")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_time(text):
    """RFC 3339 (kubeadm's 'expires') -> aware datetime; None when empty."""
    if not text:
        return None
    value = str(text).strip().replace("Z", "+00:00").replace("z", "+00:00")
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)  # Go may print nanoseconds; Python takes microseconds
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TokenError(f"expires={text!r} is not an RFC 3339 time ({exc}).") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_time(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


# -- kubeadm token list -o json -----------------------------------------------------------------------------
def _json_values(text):
    """Every JSON value in text: kubeadm prints one object per token, concatenated, not an array. Lines that
    are not JSON (warnings some kubeadm versions print on stdout) are skipped."""
    decoder, position, values = json.JSONDecoder(), 0, []
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        if text[position] in "{[":
            try:
                value, position = decoder.raw_decode(text, position)
                values.append(value)
                continue
            except json.JSONDecodeError:
                pass
        newline = text.find("\n", position)
        position = len(text) if newline < 0 else newline + 1
    return values


def _token_string(value):
    if isinstance(value, dict):  # tolerate the structured form {id, secret}
        return f"{value.get('id', '')}.{value.get('secret', '')}"
    return str(value or "")


def parse_token_list(text):
    """stdout of `kubeadm token list -o json` -> [{token, expires (datetime|None), usages, groups, description}]."""
    items = []
    for value in _json_values(text or ""):
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            items.extend(value["items"])
        elif isinstance(value, list):
            items.extend(value)
        else:
            items.append(value)
    tokens = []
    for item in items:
        if not isinstance(item, dict) or "token" not in item:
            continue
        tokens.append({"token": _token_string(item["token"]), "expires": parse_time(item.get("expires")),
                       "usages": list(item.get("usages") or []), "groups": list(item.get("groups") or []),
                       "description": item.get("description") or ""})
    return tokens


def choose_token(tokens, now, min_ttl, description):
    """The token to reuse, or None. Usable: well formed, valid for joining, at least min_ttl seconds left
    (or never expiring). Preferred: ours (same description), then the one that lives longest, expiring
    tokens before never-expiring ones."""
    horizon = now + timedelta(seconds=min_ttl)
    usable = [t for t in tokens if TOKEN_RE.match(t["token"]) and JOIN_USAGES <= set(t["usages"])
              and JOIN_GROUP in t["groups"] and (t["expires"] is None or t["expires"] >= horizon)]
    if not usable:
        return None
    return min(usable, key=lambda t: (t["description"] != description, t["expires"] is None,
                                      -(t["expires"].timestamp() if t["expires"] else 0), t["token"]))


# -- CA certificate hash ------------------------------------------------------------------------------------
def _der_element(data, offset):
    """(tag, value start, element end) of the DER element at offset."""
    if offset + 2 > len(data):
        raise TokenError("CA certificate: truncated DER data.")
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise TokenError("CA certificate: unsupported DER length encoding.")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    if start + length > len(data):
        raise TokenError("CA certificate: DER element runs past the end of the data.")
    return tag, start, start + length


def _children(data, start, end):
    children, offset = [], start
    while offset < end:
        tag, value_start, element_end = _der_element(data, offset)
        children.append((tag, offset, value_start, element_end))
        offset = element_end
    return children


def subject_public_key_info(der):
    """DER bytes of the SubjectPublicKeyInfo of an X.509 certificate (RFC 5280, 4.1)."""
    tag, start, end = _der_element(der, 0)
    if tag != 0x30:
        raise TokenError("CA certificate: not a DER certificate (expected a SEQUENCE).")
    tbs_tag, tbs_start, tbs_end = _der_element(der, start)
    if tbs_tag != 0x30:
        raise TokenError("CA certificate: no tbsCertificate SEQUENCE.")
    fields = _children(der, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or fields[5][0] != 0x30:
        raise TokenError("CA certificate: no subjectPublicKeyInfo where RFC 5280 puts it.")
    _, offset, _, element_end = fields[5]
    return der[offset:element_end]


def ca_cert_hash(certificate):
    """'sha256:<hex>' of the DER SubjectPublicKeyInfo of a PEM (or DER) certificate, as kubeadm pins it."""
    match = _PEM.search(certificate)
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True) if match else certificate
    except ValueError as exc:
        raise TokenError(f"CA certificate: the PEM block is not valid base64 ({exc}).") from exc
    return "sha256:" + hashlib.sha256(subject_public_key_info(der)).hexdigest()


# -- join commands ------------------------------------------------------------------------------------------
def build_join_command(kubeadm_path, endpoint, token, ca_hash, certificate_key=None):
    argv = [kubeadm_path, "join", endpoint, "--token", token, "--discovery-token-ca-cert-hash", ca_hash]
    if certificate_key:
        argv += ["--control-plane", "--certificate-key", certificate_key]
    return shlex.join(argv)


def parse_join_command(text):
    """stdout of `kubeadm token create --print-join-command` -> {endpoint, token, ca_hash}."""
    for line in (text or "").splitlines():
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if "join" in words and "--token" in words:
            join = words.index("join")
            found = {"endpoint": words[join + 1] if join + 1 < len(words) else "",
                     "token": _flag(words, "--token"), "ca_hash": _flag(words, "--discovery-token-ca-cert-hash")}
            if TOKEN_RE.match(found["token"]) and found["ca_hash"].startswith("sha256:") and found["endpoint"]:
                return found
    raise TokenError(f"could not find a join command in kubeadm's output: {text.strip()[:300]!r}")


def _flag(words, name):
    return words[words.index(name) + 1] if name in words and words.index(name) + 1 < len(words) else ""


def parse_certificate_key(text):
    """stdout of `kubeadm init phase upload-certs --upload-certs` -> the certificate key (last hex line)."""
    keys = [line.strip() for line in (text or "").splitlines() if CERT_KEY_RE.match(line.strip())]
    if not keys:
        raise TokenError(f"could not find the certificate key in kubeadm's output: {text.strip()[:300]!r}")
    return keys[-1]


def server_endpoint(kubeconfig):
    """host:port of the first cluster server in a kubeconfig (text), for the join command."""
    match = re.search(r"^\s*server:\s*[\"']?https?://([^\s/\"']+)", kubeconfig, re.M)
    if not match:
        raise TokenError("no cluster server in the kubeconfig. Fix: set api_endpoint (host:port).")
    endpoint = match.group(1)
    return endpoint if re.search(r":\d+$", endpoint) else f"{endpoint}:443"


# -- the whole operation ------------------------------------------------------------------------------------
def _run(run, argv):
    rc, out, err = run(argv)
    if rc != 0:
        raise TokenError(f"`{shlex.join(argv)}` failed with rc={rc}: {(err or out or '').strip()[:500]}")
    return out


def _go_duration(value, seconds):
    """The ttl as kubeadm's --ttl takes it: a Go duration, so a bare number of seconds gets its unit."""
    text = str(value).strip()
    return f"{seconds}s" if text.isdigit() and seconds else text


def _read(read, path, option):
    try:
        return read(path)
    except OSError as exc:
        raise TokenError(f"{option}={path!r} cannot be read ({exc.strerror or exc}). Fix: point {option} at "
                         "the file kubeadm wrote on this control-plane node.") from exc


def validate(params):
    """Parsed durations and checks of the options; TokenError names the option and the fix."""
    ttl = parse_duration(params.get("ttl", "1h"), "ttl")
    min_ttl = parse_duration(params.get("min_ttl", "10m"), "min_ttl")
    if ttl and ttl <= min_ttl:
        # A fresh token would already count as too old on the next run: a new token on every run.
        raise TokenError(f"ttl={params.get('ttl')!r} is not longer than min_ttl={params.get('min_ttl')!r}. Fix: "
                         "make ttl longer than min_ttl (defaults 1h and 10m), or ttl=0 for a token that never "
                         "expires.")
    endpoint = params.get("api_endpoint")
    if endpoint and not re.match(r"^[^\s/:]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$", endpoint):
        raise TokenError(f"api_endpoint={endpoint!r} is not host:port. Fix: e.g. 192.0.2.10:6443.")
    key = params.get("certificate_key")
    if key and not CERT_KEY_RE.match(key):
        raise TokenError("certificate_key is not 64 lower-case hex characters. Fix: generate one with "
                         "`kubeadm certs certificate-key`, or leave it unset to let kubeadm pick one.")
    return ttl, min_ttl


def ensure_join(params, run, read, now, check_mode=False):
    """Reuse a valid token or create one (only then changed); return the module result as a dict."""
    ttl, min_ttl = validate(params)
    kubeadm, kubeconfig = params["kubeadm_path"], params["kubeconfig"]
    listing = _run(run, [kubeadm, "token", "list", "-o", "json", "--kubeconfig", kubeconfig])
    chosen = choose_token(parse_token_list(listing), now, min_ttl, params["description"])
    result = {"changed": False, "created": False}
    if chosen:
        endpoint = params.get("api_endpoint") or server_endpoint(
            _read(read, kubeconfig, "kubeconfig").decode("utf-8", "replace"))
        ca_hash = ca_cert_hash(_read(read, params["ca_cert_path"], "ca_cert_path"))
        result.update(token=chosen["token"], expires=format_time(chosen["expires"]))
    elif check_mode:
        result.update(changed=True, token="", expires=None, join_command="",
                      msg="check mode: no valid bootstrap token, one would be created")
        return _control_plane(params, run, result, check_mode)
    else:
        created = parse_join_command(_run(run, [kubeadm, "token", "create", "--kubeconfig", kubeconfig,
                                                "--ttl", _go_duration(params.get("ttl", "1h"), ttl),
                                                "--description", params["description"],
                                                "--print-join-command"]))
        endpoint = params.get("api_endpoint") or created["endpoint"]
        ca_hash = created["ca_hash"]
        result.update(changed=True, created=True, token=created["token"],
                      expires=format_time(now + timedelta(seconds=ttl)) if ttl else None)
    result.update(api_endpoint=endpoint, ca_cert_hash=ca_hash,
                  join_command=build_join_command(kubeadm, endpoint, result["token"], ca_hash))
    return _control_plane(params, run, result, check_mode)


def _control_plane(params, run, result, check_mode):
    """Upload the control-plane certificates (kubeadm-certs Secret, encrypted with the certificate key)."""
    if not params.get("control_plane"):
        return result
    if check_mode:
        result.update(changed=True, certificate_key="", control_plane_join_command="")
        return result
    argv = [params["kubeadm_path"], "init", "phase", "upload-certs", "--upload-certs",
            "--kubeconfig", params["kubeconfig"]]
    if params.get("certificate_key"):
        argv += ["--certificate-key", params["certificate_key"]]
    key = parse_certificate_key(_run(run, argv))
    # The Secret is rewritten on every upload: this is a change each time, by nature.
    result.update(changed=True, certificate_key=key, control_plane_join_command=build_join_command(
        params["kubeadm_path"], result["api_endpoint"], result["token"], result["ca_cert_hash"], key))
    return result


def utc_now():
    return datetime.now(timezone.utc)
