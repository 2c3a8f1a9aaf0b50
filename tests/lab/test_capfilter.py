"""lab/runc-capfilter: which file it rewrites, how, and that it then runs runc with the same arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab_scripts import LAB, load_script

capfilter = load_script("runc-capfilter")
ALL = [f"CAP_{name}" for name in capfilter.CAPABILITIES]
SANDBOX_STATUS = "Name:\tpython3\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n"


def test_bounding_set_reads_the_mask_bit_by_bit():
    allowed = capfilter.bounding_set(SANDBOX_STATUS)
    assert "CAP_SYS_RESOURCE" not in allowed  # bit 24, the one this sandbox lacks
    assert {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_NICE", "CAP_SYS_TIME", "CAP_CHECKPOINT_RESTORE"} <= allowed
    assert len(allowed) == len(ALL) - 1


def test_bounding_set_without_capbnd_is_an_error():
    with pytest.raises(ValueError):
        capfilter.bounding_set("Name:\tx\n")


def test_capability_table_matches_the_kernel_numbering():
    assert capfilter.CAPABILITIES.index("SYS_RESOURCE") == 24
    assert capfilter.CAPABILITIES.index("BPF") == 39
    assert len(capfilter.CAPABILITIES) == 41


@pytest.mark.parametrize(
    ("argv", "command", "rest"),
    [
        (["--root", "/r", "--log", "/l", "--log-format", "json", "create", "--bundle", "/b", "x"], "create",
         ["--bundle", "/b", "x"]),
        (["--root=/r", "--systemd-cgroup", "run", "-b", "/b", "x"], "run", ["-b", "/b", "x"]),
        (["--debug", "exec", "--process", "/p.json", "x"], "exec", ["--process", "/p.json", "x"]),
        (["--root", "/r", "delete", "x"], "delete", ["x"]),
        (["--version"], None, []),
    ],
)
def test_split_command_skips_global_options(argv, command, rest):
    assert capfilter.split_command(argv) == (command, rest)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--root", "/r", "create", "--bundle", "/b", "x"], ("/b/config.json", "config")),
        (["create", "--bundle=/b", "x"], ("/b/config.json", "config")),
        (["run", "-b", "/b", "x"], ("/b/config.json", "config")),
        (["exec", "--process", "/tmp/p.json", "--detach", "x"], ("/tmp/p.json", "process")),
        (["exec", "-p", "/tmp/p.json", "x"], ("/tmp/p.json", "process")),
        (["exec", "--process=/tmp/p.json", "x"], ("/tmp/p.json", "process")),
        (["exec", "x", "sh"], (None, None)),  # no process file: nothing to rewrite
        (["--root", "/r", "start", "x"], (None, None)),
        (["kill", "x", "9"], (None, None)),
    ],
)
def test_target_file(argv, expected):
    assert capfilter.target_file(argv) == expected


def test_create_without_bundle_uses_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert capfilter.target_file(["create", "x"]) == (str(tmp_path / "config.json"), "config")


def caps(names):
    return {kind: list(names) for kind in ("bounding", "effective", "permitted", "inheritable", "ambient")}


def test_rewrite_config_keeps_everything_but_the_missing_capabilities(tmp_path):
    config = {"ociVersion": "1.0.2", "process": {"args": ["/sbin/init"], "capabilities": caps(ALL)},
              "linux": {"namespaces": [{"type": "pid"}]}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    path.chmod(0o640)
    allowed = capfilter.bounding_set(SANDBOX_STATUS)

    assert capfilter.rewrite_file(str(path), "config", allowed) == ["CAP_SYS_RESOURCE"]
    result = json.loads(path.read_text())
    expected = [name for name in ALL if name != "CAP_SYS_RESOURCE"]
    assert result["process"]["capabilities"] == caps(expected)  # order kept, every set filtered
    assert result["process"]["args"] == ["/sbin/init"] and result["linux"] == config["linux"]
    assert path.stat().st_mode & 0o777 == 0o640
    assert not list(tmp_path.glob("*.capfilter"))


def test_rewrite_leaves_a_file_that_needs_nothing_untouched(tmp_path):
    path = tmp_path / "p.json"
    text = json.dumps({"args": ["sh"], "capabilities": caps(["CAP_CHOWN", "CAP_KILL"])}, indent=3)
    path.write_text(text)
    assert capfilter.rewrite_file(str(path), "process", set(ALL)) == []
    assert path.read_text() == text


def test_rewrite_exec_process_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"args": ["sh"], "capabilities": caps(["CAP_SYS_RESOURCE", "CAP_NET_ADMIN"])}))
    assert capfilter.rewrite_file(str(path), "process", {"CAP_NET_ADMIN"}) == ["CAP_SYS_RESOURCE"]
    assert json.loads(path.read_text())["capabilities"] == caps(["CAP_NET_ADMIN"])


def test_process_without_capabilities_is_left_alone():
    process = {"args": ["true"]}
    assert capfilter.rewrite_process(process, set()) == []
    assert process == {"args": ["true"]}


@given(requested=st.lists(st.sampled_from(ALL + ["CAP_FUTURE_THING"]), unique=True),
       allowed=st.sets(st.sampled_from(ALL)))
def test_filter_keeps_exactly_the_allowed_in_order(requested, allowed):
    kept, removed = capfilter.filter_capabilities({"bounding": requested, "note": "x"}, allowed)
    assert kept["bounding"] == [name for name in requested if name in allowed]
    assert removed == sorted(set(requested) - allowed)
    assert kept["note"] == "x"


def test_wrapper_rewrites_then_runs_runc_with_the_same_arguments(tmp_path):
    """End to end, with a fake runc: the bundle is filtered by this machine's real bounding set."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps({"process": {"capabilities": caps(ALL)}}))
    record = tmp_path / "argv.json"
    fake = tmp_path / "runc"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n")
    fake.chmod(0o755)
    argv = ["--root", "/run/r", "--log-format", "json", "create", "--bundle", str(bundle), "--pid-file", "p", "c1"]

    subprocess.run([sys.executable, str(LAB / "runc-capfilter"), *argv], check=True,
                   env={**os.environ, "HOMELAB_RUNC": str(fake)})

    assert json.loads(record.read_text()) == argv
    allowed = capfilter.bounding_set(Path("/proc/self/status").read_text())
    bounding = json.loads((bundle / "config.json").read_text())["process"]["capabilities"]["bounding"]
    assert bounding == [name for name in ALL if name in allowed]
