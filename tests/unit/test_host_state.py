"""plugins/module_utils/host_state.py: the one-pass read that lets a converged node skip the host-layer modules.

Every reader must decide like the module it stands in for, and read anything it cannot decide as "different":
a wrong "same" would leave drift unfixed, a wrong "different" only costs a normal converge.
"""

from __future__ import annotations

import hashlib
import socket

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.host_state import (
    block_lines, file_differs, file_state, modules_loaded, package_versions, parse_dpkg, read_state,
    service_states, subdirectories, sysctl_values)

BEGIN, END = "# BEGIN homelab.stack: Kubernetes nodes", "# END homelab.stack: Kubernetes nodes"


def test_file_state_describes_a_file_with_its_sha1(tmp_path):
    path = tmp_path / "f.conf"
    path.write_text("overlay\n")
    path.chmod(0o640)
    state = file_state(str(path))
    assert state["exists"] and state["type"] == "file" and state["mode"] == "0640"
    assert state["checksum"] == hashlib.sha1(b"overlay\n").hexdigest()
    assert state["owner"] and state["group"]


def test_file_state_of_a_link_is_the_link_not_its_target(tmp_path):
    (tmp_path / "target").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert file_state(str(tmp_path / "link"))["type"] == "link"
    assert file_state(str(tmp_path / "missing")) == {"exists": False}


def _wanted(path, content, **extra):
    return dict({"path": str(path), "state": "file", "checksum": hashlib.sha1(content.encode()).hexdigest(),
                 "mode": "0644"}, **extra)


def test_file_differs_on_content_mode_type_and_absence(tmp_path):
    path = tmp_path / "f"
    path.write_text("a\n")
    path.chmod(0o644)
    actual = file_state(str(path))
    owner = actual["owner"]
    assert not file_differs(_wanted(path, "a\n", owner=owner), actual)
    assert file_differs(_wanted(path, "b\n"), actual)
    assert file_differs(_wanted(path, "a\n", mode="0600"), actual)
    assert file_differs(_wanted(path, "a\n", owner=owner + "-other"), actual)
    assert file_differs(_wanted(path, "a\n", state="directory"), actual)
    assert file_differs({"path": str(path), "state": "absent"}, actual)
    assert not file_differs({"path": str(path), "state": "absent"}, {"exists": False})
    assert file_differs(_wanted(tmp_path / "none", "a\n"), file_state(str(tmp_path / "none")))
    assert not file_differs({"path": str(path), "mode": 0o644}, actual)


def test_directory_state_and_subdirectories(tmp_path):
    (tmp_path / "docker.io").mkdir()
    (tmp_path / "quay.io").mkdir()
    (tmp_path / "stray.conf").write_text("")
    assert subdirectories(str(tmp_path)) == ["docker.io", "quay.io"]
    assert subdirectories(str(tmp_path / "missing")) is None
    assert subdirectories(str(tmp_path / "stray.conf")) is None
    assert not file_differs({"path": str(tmp_path), "state": "directory"}, file_state(str(tmp_path)))


@pytest.mark.parametrize("text, expected", [
    (f"127.0.0.1 localhost\n{BEGIN}\n10.0.0.1 a\n10.0.0.2 b\n{END}\n", ["10.0.0.1 a", "10.0.0.2 b"]),
    (f"{BEGIN}\n{END}\n", []),
    # blockinfile takes the last of each marker
    (f"{BEGIN}\nold\n{END}\n{BEGIN}\nnew\n{END}\nx\n", ["new"]),
    # no end marker, or an end marker without its newline (blockinfile would add a block): None
    (f"{BEGIN}\n10.0.0.1 a\n", None),
    (f"{BEGIN}\n10.0.0.1 a\n{END}", None),
    (f"{END}\n{BEGIN}\n", None),
    ("127.0.0.1 localhost\n", None),
    (None, None),
])
def test_block_lines_finds_what_blockinfile_finds(text, expected):
    assert block_lines(text, BEGIN, END) == expected


def test_parse_dpkg_keeps_installed_packages_only():
    output = ("chrony ii 4.3-2+deb12u1\nsocat rc 1.7.4.4-2\nlibc6:amd64 ii 2.36-9+deb12u10\n"
              "conntrack un <none>\n")
    assert parse_dpkg(output) == {"chrony": "4.3-2+deb12u1", "libc6": "2.36-9+deb12u10"}


def test_package_versions_strips_pins_and_reports_missing(monkeypatch):
    calls = []

    def run(argv):
        calls.append(argv)
        return 1, "containerd ii 1.6.20~ds1-1+b1\n", "dpkg-query: no packages found matching nope\n"

    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    assert package_versions(["containerd=1.6.*", "nope"], run) == {"containerd": "1.6.20~ds1-1+b1", "nope": None}
    assert calls[0][-2:] == ["containerd", "nope"]
    assert package_versions([], run) == {}


def test_package_versions_without_dpkg_reads_as_missing(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert package_versions(["chrony"], lambda argv: pytest.fail("no dpkg-query to run")) == {"chrony": None}


def test_service_states():
    outputs = {"containerd": (0, "UnitFileState=enabled\nActiveState=active\n", ""),
               "chrony": (0, "UnitFileState=disabled\nActiveState=active\n", ""),
               "ghost": (0, "UnitFileState=\nActiveState=inactive\n", ""),
               "broken": (1, "", "Failed to connect to bus")}
    states = service_states(list(outputs), lambda argv: outputs[argv[-1]])
    assert states == {"containerd": {"enabled": True, "active": True}, "chrony": {"enabled": False, "active": True},
                      "ghost": {"enabled": False, "active": False}, "broken": {"enabled": False, "active": False}}


def test_sysctl_values_read_proc_and_collapse_whitespace(tmp_path):
    (tmp_path / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "net" / "ipv4" / "ip_forward").write_text("1\n")
    (tmp_path / "net" / "ipv4" / "tcp_rmem").write_text("4096\t131072\t6291456\n")
    assert sysctl_values(["net.ipv4.ip_forward", "net.ipv4.tcp_rmem", "net.bridge.bridge-nf-call-iptables"],
                         proc=str(tmp_path)) == {"net.ipv4.ip_forward": "1", "net.ipv4.tcp_rmem": "4096 131072 6291456",
                                                 "net.bridge.bridge-nf-call-iptables": None}


def test_modules_loaded_like_modprobe(tmp_path):
    proc = tmp_path / "modules"
    proc.write_text("br_netfilter 32768 0 - Live 0x0\nnf_conntrack 172032 1 - Live 0x0\n")
    lib = tmp_path / "lib" / "6.1.0" / "modules.builtin"
    lib.parent.mkdir(parents=True)
    lib.write_text("kernel/fs/overlayfs/overlay.ko\n")
    assert modules_loaded(["br_netfilter", "overlay", "ip_vs", "nf-conntrack"], release="6.1.0",
                          modules=str(proc), lib=str(tmp_path / "lib")) == {
        "br_netfilter": True, "overlay": True, "ip_vs": False, "nf-conntrack": True}
    # No module support (a container here): undecided, so the caller treats it as a difference.
    assert modules_loaded(["overlay"], modules=str(tmp_path / "none")) == {"overlay": None}


def test_read_state_lists_the_files_that_differ(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("a\n")
    bad.write_text("old\n")
    good.chmod(0o644)
    bad.chmod(0o644)
    state = read_state({"files": [_wanted(good, "a\n"), _wanted(bad, "new\n")],
                        "contents": [str(good), str(tmp_path / "none")],
                        "blocks": [{"path": str(good), "marker_begin": BEGIN, "marker_end": END}],
                        "commands": ["sh", "no-such-program-here"]}, lambda argv: (0, "", ""))
    assert state["files_differ"] == [str(bad)]
    assert state["contents"] == {str(good): "a\n", str(tmp_path / "none"): None}
    assert state["blocks"] == [None]
    assert state["commands"]["sh"] and state["commands"]["no-such-program-here"] is None
    assert state["hostname"] == socket.gethostname()
