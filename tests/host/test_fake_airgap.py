"""The molecule `kubeadm` scenario installs FAKE binaries through the kube_packages air-gapped source: they
must say they are fakes, and the checksums the scenario gives the role must be theirs."""

from __future__ import annotations

import hashlib
import subprocess

import yaml

from conftest import ROOT

AIRGAP = ROOT / "molecule" / "kubeadm" / "fake-airgap"
BINARIES = ("kubeadm", "kubelet", "kubectl")


def test_checksums_file_matches_the_fake_binaries():
    sums = yaml.safe_load((AIRGAP / "checksums.yml").read_text(encoding="utf-8"))["kube_packages_checksums"]
    assert sorted(sums["v1.31.13"]) == ["amd64", "arm64"]
    for arch in ("amd64", "arm64"):
        folder = AIRGAP / "v1.31.13" / "bin" / "linux" / arch
        for binary in BINARIES:
            digest = hashlib.sha256((folder / binary).read_bytes()).hexdigest()
            assert sums["v1.31.13"][arch][binary] == digest, f"{arch}/{binary}: regenerate checksums.yml"


def test_every_fake_says_it_is_fake(tmp_path):
    folder = AIRGAP / "v1.31.13" / "bin" / "linux" / "amd64"
    for binary in BINARIES:
        text = (folder / binary).read_text(encoding="utf-8")
        assert f"FAKE {binary} for homelab.stack tests" in text and "not Kubernetes" in text
    # The help of the fake kubeadm, run here with its log redirected (it records every call).
    script = (folder / "kubeadm").read_text(encoding="utf-8").replace('"/var/log/fake-kubeadm.log"',
                                                                     repr(str(tmp_path / "log")))
    (tmp_path / "kubeadm").write_text(script, encoding="utf-8")
    result = subprocess.run(["python3", str(tmp_path / "kubeadm"), "--help"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.startswith("FAKE kubeadm for homelab.stack tests")
    assert (tmp_path / "log").read_text(encoding="utf-8").rstrip().endswith("kubeadm --help")
