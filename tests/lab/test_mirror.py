"""lab/mirror.py: the node image and the egress guard use exactly the Debian archive the host's apt uses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lab_scripts import LAB, load_script

mirror = load_script("mirror.py")
Source = mirror.Source


def test_one_line_format_with_options_comments_and_deb_src():
    text = """
# deb http://commented.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://m.example/debian/ bookworm main contrib # note
deb-src http://m.example/debian bookworm main
deb http://m.example/debian bookworm-updates main
deb	http://tab.example/debian bookworm main
deb http://broken.example/debian
"""
    assert mirror.parse_one_line(text) == [
        Source("http://m.example/debian", "bookworm", ("main", "contrib")),
        Source("http://m.example/debian", "bookworm-updates", ("main",)),
        Source("http://tab.example/debian", "bookworm", ("main",)),
    ]


def test_deb822_stanzas_multiple_values_continuations_and_disabled():
    text = """Types: deb deb-src
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://m.example/debian
Suites: bookworm
 bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://off.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main
"""
    assert mirror.parse_deb822(text) == [
        Source("http://m.example/debian", "bookworm", ("main",)),
        Source("http://m.example/debian", "bookworm-updates", ("main",)),
    ]


def test_pick_takes_updates_and_security_from_the_same_host():
    sources = [
        Source("https://other.example/apt", "cloud-sdk", ("main",)),
        Source("http://m.example/debian", "bookworm", ("main",)),
        Source("http://m.example/debian", "bookworm-updates", ("main",)),
        Source("http://m.example/debian-security", "bookworm-security", ("main",)),
    ]
    assert mirror.pick(sources) == {
        "LAB_MIRROR_URL": "http://m.example/debian",
        "LAB_MIRROR_SUITES": "bookworm bookworm-updates",
        "LAB_MIRROR_SECURITY_URL": "http://m.example/debian-security",
        "LAB_MIRROR_HOST": "m.example",
    }


def test_pick_leaves_out_security_on_another_host():
    # Nodes reach one host only (one /etc/hosts entry, one set of addresses in the egress guard).
    sources = [Source("http://m.example/debian", "bookworm", ("main",)),
               Source("http://security.example/debian-security", "bookworm-security", ("main",))]
    picked = mirror.pick(sources)
    assert picked["LAB_MIRROR_SECURITY_URL"] == "" and picked["LAB_MIRROR_SUITES"] == "bookworm"


@pytest.mark.parametrize("sources", [
    [],
    [Source("http://m.example/debian", "trixie", ("main",))],
    [Source("http://m.example/debian", "bookworm", ("contrib",))],
])
def test_pick_fails_without_a_bookworm_main_source(sources):
    with pytest.raises(LookupError, match="HOMELAB_MIRROR_URL"):
        mirror.pick(sources)


def test_read_sources_in_apt_order(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://first.example/debian bookworm main\n")
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "b.sources").write_text("Types: deb\nURIs: http://third.example/debian\nSuites: bookworm\n"
                                     "Components: main\n")
    (parts / "a.list").write_text("deb http://second.example/debian bookworm main\n")
    (parts / "c.list.disabled").write_text("deb http://never.example/debian bookworm main\n")
    uris = [source.uri for source in mirror.read_sources(tmp_path)]
    assert uris == ["http://first.example/debian", "http://second.example/debian", "http://third.example/debian"]


def run_cli(tmp_path, env=None):
    return subprocess.run([sys.executable, str(LAB / "mirror.py"), "--apt-dir", str(tmp_path)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **(env or {})})


def test_cli_prints_shell_assignments(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://m.example/debian bookworm main\n")
    result = run_cli(tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "LAB_MIRROR_URL=http://m.example/debian", "LAB_MIRROR_SUITES=bookworm", "LAB_MIRROR_SECURITY_URL=''",
        "LAB_MIRROR_HOST=m.example",
    ]


def test_cli_override_wins_and_is_validated(tmp_path):
    ok = run_cli(tmp_path, {"HOMELAB_MIRROR_URL": "https://o.example/debian/"})
    assert "LAB_MIRROR_URL=https://o.example/debian" in ok.stdout.splitlines()
    bad = run_cli(tmp_path, {"HOMELAB_MIRROR_URL": "ftp://o.example/debian"})
    assert bad.returncode == 1 and "not an http(s) URL" in bad.stderr


def test_cli_without_sources_fails_clearly(tmp_path):
    result = run_cli(tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("mirror: error: no apt source serves 'bookworm main'")


def test_the_hosts_mirror_is_in_no_committed_file(root):
    """The rule: the mirror is discovered at run time, its name and addresses are never committed."""
    found = mirror.read_sources(mirror.Path("/etc/apt"))
    picked = mirror.pick(found)  # this machine must have a Debian source: the lab is built from it
    lines = subprocess.run(["getent", "ahostsv4", picked["LAB_MIRROR_HOST"]], capture_output=True,
                           text=True).stdout.splitlines()
    addresses = {line.split()[0] for line in lines if line.strip()}
    needles = {picked["LAB_MIRROR_HOST"], *addresses}
    patterns = [arg for needle in sorted(needles) for arg in ("-e", needle)]
    tracked = subprocess.run(["git", "-C", str(root), "grep", "--untracked", "-l", "-F", *patterns, "--", "."],
                             capture_output=True, text=True)
    assert tracked.returncode == 1, f"mirror name or address committed in: {tracked.stdout.split()}"
