"""module_utils/kubeadm_token.py: token listing, choice, CA hash, join commands; driven by a fake kubeadm."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.homelab.stack.plugins.module_utils import kubeadm_token as k

NOW = datetime(2026, 1, 27, 12, 0, tzinfo=timezone.utc)
CA_PEM = (Path(__file__).parent / "fixtures" / "ca.crt").read_bytes()
# Computed with the pipeline of the kubeadm documentation:
#   openssl x509 -pubkey -in ca.crt | openssl rsa -pubin -outform der | openssl dgst -sha256 -hex
CA_HASH = "sha256:6d8c593eb4d8863264c4ce7d492c62fe2794c60d8c44b1f10c227ba86479b00e"
KEY = "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204"
KUBECONFIG = b"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: AAAA
    server: https://10.0.0.1:6443
  name: kubernetes
"""
GROUPS = [k.JOIN_GROUP]
PARAMS = {"kubeadm_path": "/usr/bin/kubeadm", "kubeconfig": "/etc/kubernetes/admin.conf", "ttl": "1h",
          "min_ttl": "10m", "description": "homelab.stack join", "api_endpoint": None,
          "ca_cert_path": "/etc/kubernetes/pki/ca.crt", "control_plane": False, "certificate_key": None}
FILES = {"/etc/kubernetes/admin.conf": KUBECONFIG, "/etc/kubernetes/pki/ca.crt": CA_PEM}


def token(name, expires=NOW + timedelta(hours=1), description="", usages=("authentication", "signing"),
          groups=GROUPS):
    item = {"kind": "BootstrapToken", "apiVersion": "output.kubeadm.k8s.io/v1alpha3", "token": name,
            "description": description, "usages": list(usages), "groups": list(groups)}
    if expires is not None:
        item["ttl"] = "59m"
        item["expires"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return item


class FakeKubeadm:
    """Stands in for kubeadm: keeps its tokens, records every call, answers like kubeadm 1.31."""

    def __init__(self, tokens=(), fail=None):
        self.tokens, self.calls, self.fail = list(tokens), [], fail

    def __call__(self, argv):
        self.calls.append(list(argv))
        if self.fail and self.fail in " ".join(argv):
            return 1, "", "error execution phase: couldn't reach the API server"
        if argv[1:3] == ["token", "list"]:
            return 0, "".join(json.dumps(t, indent=4) + "\n" for t in self.tokens), ""
        if argv[1:3] == ["token", "create"]:
            new = f"new{len(self.tokens):03d}.0123456789abcdef"
            ttl = k.parse_duration(argv[argv.index("--ttl") + 1], "ttl")
            self.tokens.append(token(new, NOW + timedelta(seconds=ttl), argv[argv.index("--description") + 1]))
            printed = f"kubeadm join 10.0.0.1:6443 --token {new} --discovery-token-ca-cert-hash sha256:{'a' * 64} \n"
            return 0, printed, ""
        if argv[1:4] == ["init", "phase", "upload-certs"]:
            chosen = argv[argv.index("--certificate-key") + 1] if "--certificate-key" in argv else KEY
            return 0, ('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" '
                       f"Namespace\n[upload-certs] Using certificate key:\n{chosen}\n"), ""
        return 2, "", f"unexpected call {argv}"


def ensure(fake, check_mode=False, files=FILES, **params):
    return k.ensure_join(dict(PARAMS, **params), fake, files.__getitem__, NOW, check_mode)


# -- parsing ------------------------------------------------------------------------------------------------
def test_list_output_is_concatenated_objects():
    listed = (token("abcdef.0123456789abcdef"), token("ghijkl.0123456789abcdef", expires=None))
    text = "".join(json.dumps(t, indent=4) + "\n" for t in listed)
    tokens = k.parse_token_list(text)
    assert [t["token"] for t in tokens] == ["abcdef.0123456789abcdef", "ghijkl.0123456789abcdef"]
    assert tokens[0]["expires"] == NOW + timedelta(hours=1) and tokens[1]["expires"] is None
    assert tokens[0]["groups"] == GROUPS and tokens[0]["usages"] == ["authentication", "signing"]


@pytest.mark.parametrize("text, count", [
    ("", 0),
    ("W0127 12:00:00.000 warnings.go:70] something\n" + json.dumps(token("abcdef.0123456789abcdef")), 1),
    (json.dumps([token("abcdef.0123456789abcdef"), token("ghijkl.0123456789abcdef")]), 2),
    (json.dumps({"kind": "List", "items": [token("abcdef.0123456789abcdef")]}), 1),
    (json.dumps(token("abcdef.0123456789abcdef")) + json.dumps(token("ghijkl.0123456789abcdef")), 2),
    ("{not json\n" + json.dumps(token("abcdef.0123456789abcdef")), 1),
])
def test_list_parsing_is_robust(text, count):
    assert len(k.parse_token_list(text)) == count


def test_structured_token_form():
    item = dict(token("x"), token={"id": "abcdef", "secret": "0123456789abcdef"})
    assert k.parse_token_list(json.dumps(item))[0]["token"] == "abcdef.0123456789abcdef"


@pytest.mark.parametrize("text, expected", [
    ("2026-01-27T12:00:00Z", NOW), ("2026-01-27T21:00:00+09:00", NOW),
    ("2026-01-27T12:00:00.123456789Z", NOW + timedelta(microseconds=123456)), ("", None)])
def test_times(text, expected):
    assert k.parse_time(text) == expected


@pytest.mark.parametrize("value, seconds", [("1h", 3600), ("10m", 600), ("1h30m", 5400), ("90s", 90), ("0", 0),
                                            (600, 600)])
def test_durations(value, seconds):
    assert k.parse_duration(value, "ttl") == seconds


def test_bad_duration_names_the_option():
    with pytest.raises(k.TokenError, match=r"min_ttl='ten minutes' is not a duration. Fix: write it like 1h"):
        k.parse_duration("ten minutes", "min_ttl")


# -- choosing -----------------------------------------------------------------------------------------------
def choose(*tokens):
    found = k.choose_token(k.parse_token_list("".join(json.dumps(t) for t in tokens)), NOW, 600, "homelab.stack join")
    return found["token"] if found else None


def test_expired_or_almost_expired_tokens_are_not_reused():
    assert choose(token("aaaaaa.0123456789abcdef", NOW - timedelta(minutes=1)),
                  token("bbbbbb.0123456789abcdef", NOW + timedelta(minutes=9))) is None
    assert choose(token("cccccc.0123456789abcdef", NOW + timedelta(minutes=10))) == "cccccc.0123456789abcdef"


def test_tokens_that_cannot_join_are_not_reused():
    assert choose(token("aaaaaa.0123456789abcdef", usages=["signing"]),
                  token("bbbbbb.0123456789abcdef", groups=["system:bootstrappers:other"]),
                  token("not-a-token")) is None


def test_preference_ours_then_longest_then_never_expiring():
    other_long = token("aaaaaa.0123456789abcdef", NOW + timedelta(hours=20))
    ours_short = token("bbbbbb.0123456789abcdef", NOW + timedelta(hours=1), "homelab.stack join")
    ours_long = token("cccccc.0123456789abcdef", NOW + timedelta(hours=2), "homelab.stack join")
    forever = token("dddddd.0123456789abcdef", None)
    assert choose(other_long, ours_short, ours_long, forever) == "cccccc.0123456789abcdef"
    assert choose(other_long, forever) == "aaaaaa.0123456789abcdef"
    assert choose(forever) == "dddddd.0123456789abcdef"


# -- CA hash ------------------------------------------------------------------------------------------------
def test_ca_hash_matches_openssl_on_the_fixture():
    assert k.ca_cert_hash(CA_PEM) == CA_HASH


def _certificate(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()) \
        .serial_number(x509.random_serial_number()).not_valid_before(NOW).not_valid_after(NOW + timedelta(days=1))
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


@pytest.mark.parametrize("key", [rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 4096),
                                 ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()],
                         ids=["rsa2048", "rsa4096", "p256", "ed25519"])
def test_ca_hash_matches_cryptography(key):
    cert = _certificate(key)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = "sha256:" + hashlib.sha256(spki).hexdigest()
    assert k.ca_cert_hash(cert.public_bytes(serialization.Encoding.PEM)) == expected
    assert k.ca_cert_hash(cert.public_bytes(serialization.Encoding.DER)) == expected


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01",
                                  b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"])
def test_ca_hash_rejects_garbage(data):
    with pytest.raises(k.TokenError, match="CA certificate"):
        k.ca_cert_hash(data)


# -- commands -----------------------------------------------------------------------------------------------
def test_join_commands():
    printed = k.parse_join_command(f"kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef "
                                   f"--discovery-token-ca-cert-hash {CA_HASH} \n")
    assert printed == {"endpoint": "10.0.0.1:6443", "token": "abcdef.0123456789abcdef", "ca_hash": CA_HASH}
    assert k.build_join_command("/usr/bin/kubeadm", "10.0.0.1:6443", "abcdef.0123456789abcdef", CA_HASH, KEY) == (
        f"/usr/bin/kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash "
        f"{CA_HASH} --control-plane --certificate-key {KEY}")
    with pytest.raises(k.TokenError, match="could not find a join command"):
        k.parse_join_command("error: timed out\n")


def test_certificate_key_and_server_endpoint():
    assert k.parse_certificate_key(FakeKubeadm()(["kubeadm", "init", "phase", "upload-certs"])[1]) == KEY
    with pytest.raises(k.TokenError, match="could not find the certificate key"):
        k.parse_certificate_key("[upload-certs] Skipping phase\n")
    assert k.server_endpoint(KUBECONFIG.decode()) == "10.0.0.1:6443"
    assert k.server_endpoint("    server: https://api.lab.example\n") == "api.lab.example:443"
    with pytest.raises(k.TokenError, match="set api_endpoint"):
        k.server_endpoint("apiVersion: v1\n")


# -- the whole operation with a fake kubeadm ----------------------------------------------------------------
LIST = ["/usr/bin/kubeadm", "token", "list", "-o", "json", "--kubeconfig", "/etc/kubernetes/admin.conf"]
CREATE = ["/usr/bin/kubeadm", "token", "create", "--kubeconfig", "/etc/kubernetes/admin.conf", "--ttl", "1h",
          "--description", "homelab.stack join", "--print-join-command"]
UPLOAD = ["/usr/bin/kubeadm", "init", "phase", "upload-certs", "--upload-certs", "--kubeconfig",
          "/etc/kubernetes/admin.conf"]


def test_a_valid_token_is_reused_without_any_change():
    fake = FakeKubeadm([token("abcdef.0123456789abcdef", NOW + timedelta(minutes=30))])
    result = ensure(fake)
    assert fake.calls == [LIST]
    assert result == {"changed": False, "created": False, "token": "abcdef.0123456789abcdef",
                      "expires": "2026-01-27T12:30:00Z", "api_endpoint": "10.0.0.1:6443", "ca_cert_hash": CA_HASH,
                      "join_command": "/usr/bin/kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef "
                                      f"--discovery-token-ca-cert-hash {CA_HASH}"}


def test_a_token_is_created_only_when_none_is_valid_then_reused():
    fake = FakeKubeadm([token("abcdef.0123456789abcdef", NOW + timedelta(minutes=5))])
    first = ensure(fake)
    assert fake.calls == [LIST, CREATE]
    assert first["changed"] and first["created"] and first["token"] == "new001.0123456789abcdef"
    assert first["expires"] == "2026-01-27T13:00:00Z" and first["ca_cert_hash"] == "sha256:" + "a" * 64
    assert first["join_command"].startswith("/usr/bin/kubeadm join 10.0.0.1:6443 --token new001.")
    second = ensure(fake)  # idempotent: the new token is found and reused
    assert fake.calls == [LIST, CREATE, LIST]
    assert not second["changed"] and second["token"] == first["token"]


def test_check_mode_reports_and_creates_nothing():
    fake = FakeKubeadm()
    result = ensure(fake, check_mode=True)
    assert fake.calls == [LIST] and fake.tokens == []
    assert result["changed"] and not result["created"] and result["token"] == ""
    assert "would be created" in result["msg"]
    fake.tokens.append(token("abcdef.0123456789abcdef"))
    assert ensure(fake, check_mode=True)["changed"] is False


def test_api_endpoint_and_ttl_options():
    fake = FakeKubeadm()
    result = ensure(fake, api_endpoint="192.0.2.10:6443", ttl="2h", min_ttl="30m")
    assert fake.calls[1][fake.calls[1].index("--ttl") + 1] == "2h"
    assert " join 192.0.2.10:6443 " in result["join_command"] and result["api_endpoint"] == "192.0.2.10:6443"
    assert ensure(fake, api_endpoint="192.0.2.10:6443")["join_command"].split()[2] == "192.0.2.10:6443"
    seconds = FakeKubeadm()  # kubeadm takes Go durations: a bare number of seconds gets its unit
    ensure(seconds, ttl="7200")
    assert seconds.calls[1][seconds.calls[1].index("--ttl") + 1] == "7200s"


def test_control_plane_uploads_certificates():
    fake = FakeKubeadm([token("abcdef.0123456789abcdef")])
    result = ensure(fake, control_plane=True)
    assert fake.calls == [LIST, UPLOAD]
    assert result["changed"] and result["certificate_key"] == KEY
    assert result["control_plane_join_command"] == result["join_command"] + f" --control-plane --certificate-key {KEY}"
    mine = "f" * 64
    assert ensure(fake, control_plane=True, certificate_key=mine)["certificate_key"] == mine
    assert fake.calls[-1] == UPLOAD + ["--certificate-key", mine]
    checked = ensure(fake, check_mode=True, control_plane=True)
    assert checked["changed"] and checked["certificate_key"] == "" and fake.calls[-1] == LIST


@pytest.mark.parametrize("params, fragment", [
    ({"ttl": "10m"}, "ttl='10m' is not longer than min_ttl='10m'"),
    ({"ttl": "soon"}, "ttl='soon' is not a duration"),
    ({"api_endpoint": "https://10.0.0.1:6443"}, "api_endpoint='https://10.0.0.1:6443' is not host:port"),
    ({"certificate_key": "abc"}, "certificate_key is not 64 lower-case hex characters"),
])
def test_bad_options(params, fragment):
    with pytest.raises(k.TokenError, match=fragment.replace("(", r"\(")):
        ensure(FakeKubeadm(), **params)


def test_kubeadm_failures_and_missing_files_are_explained():
    with pytest.raises(k.TokenError, match=r"`/usr/bin/kubeadm token list .*` failed with rc=1: error execution"):
        ensure(FakeKubeadm(fail="list"))
    with pytest.raises(k.TokenError, match=r"token create"):
        ensure(FakeKubeadm(fail="create"))

    def missing(path):
        raise FileNotFoundError(2, "No such file or directory", path)

    with pytest.raises(k.TokenError, match=r"ca_cert_path='/etc/kubernetes/pki/ca.crt' cannot be read"):
        k.ensure_join(dict(PARAMS, api_endpoint="10.0.0.1:6443"), FakeKubeadm([token("abcdef.0123456789abcdef")]),
                      missing, NOW)
