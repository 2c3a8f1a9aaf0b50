#!/usr/bin/env python3
"""Find the Debian archive this host's apt uses, so lab nodes use the same one (and nothing else).

Reads the one-line (.list) and deb822 (.sources) formats and prints shell assignments; lab/mirror.sh adds
the addresses. The mirror is discovered at run time on purpose: its name must never be committed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

NODE_SUITE = "bookworm"  # the lab node image's release (lab/image.sh)


@dataclass(frozen=True)
class Source:
    uri: str
    suite: str
    components: tuple[str, ...]


def parse_one_line(text: str) -> list[Source]:
    """`deb [opts] uri suite comp...` lines; deb-src, comments and malformed lines are ignored."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb ") and not line.startswith("deb\t"):
            continue
        words = line.split()[1:]
        if words and words[0].startswith("["):
            # Options may span several words: "[arch=amd64 signed-by=/k.gpg]".
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            found.append(Source(words[0].rstrip("/"), words[1], tuple(words[2:])))
    return found


def parse_deb822(text: str) -> list[Source]:
    """Stanzas of Types/URIs/Suites/Components; `Enabled: no` stanzas are skipped."""
    found = []
    stanzas: list[dict[str, str]] = [{}]
    key = None
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanzas[-1]:
                stanzas.append({})
            key = None
            continue
        if raw[0] in " \t" and key:  # continuation line
            stanzas[-1][key] += " " + raw.strip()
            continue
        if ":" in raw:
            key, value = raw.split(":", 1)
            key = key.strip().lower()
            stanzas[-1][key] = value.strip()
    for stanza in stanzas:
        if "deb" not in stanza.get("types", "").split():
            continue
        if stanza.get("enabled", "yes").strip().lower() == "no":
            continue
        components = tuple(stanza.get("components", "").split())
        for uri in stanza.get("uris", "").split():
            for suite in stanza.get("suites", "").split():
                found.append(Source(uri.rstrip("/"), suite, components))
    return found


def read_sources(apt_dir: Path) -> list[Source]:
    """Every enabled `deb` source, in apt's reading order (sources.list first, then sources.list.d sorted)."""
    found = []
    main = apt_dir / "sources.list"
    if main.is_file():
        found += parse_one_line(main.read_text(errors="replace"))
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                found += parse_one_line(path.read_text(errors="replace"))
            elif path.suffix == ".sources":
                found += parse_deb822(path.read_text(errors="replace"))
    return found


def pick(sources: list[Source], suite: str = NODE_SUITE) -> dict[str, str]:
    """The archive serving `suite` main, its -updates if the same archive has them, and -security on the same host.

    One host only: nodes get it through a single /etc/hosts entry and the egress guard opens only its addresses.
    """
    archive = next((s for s in sources if s.suite == suite and "main" in s.components), None)
    if archive is None:
        raise LookupError(f"no apt source serves '{suite} main'; set HOMELAB_MIRROR_URL to a Debian mirror")
    host = urlsplit(archive.uri).hostname
    if not host:
        raise LookupError(f"cannot read a host name from the apt source {archive.uri!r}")
    suites = [suite]
    if any(s.uri == archive.uri and s.suite == f"{suite}-updates" for s in sources):
        suites.append(f"{suite}-updates")
    security = next(
        (s.uri for s in sources if s.suite == f"{suite}-security" and urlsplit(s.uri).hostname == host), ""
    )
    return {
        "LAB_MIRROR_URL": archive.uri,
        "LAB_MIRROR_SUITES": " ".join(suites),
        "LAB_MIRROR_SECURITY_URL": security,
        "LAB_MIRROR_HOST": host,
    }


def from_url(url: str, suite: str = NODE_SUITE) -> dict[str, str]:
    """An explicit HOMELAB_MIRROR_URL wins over the host's sources (for hosts whose apt is not Debian's)."""
    host = urlsplit(url).hostname
    if not host or urlsplit(url).scheme not in ("http", "https"):
        raise LookupError(f"HOMELAB_MIRROR_URL={url!r} is not an http(s) URL")
    return {"LAB_MIRROR_URL": url.rstrip("/"), "LAB_MIRROR_SUITES": suite, "LAB_MIRROR_SECURITY_URL": "",
            "LAB_MIRROR_HOST": host}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apt-dir", type=Path, default=Path("/etc/apt"))
    parser.add_argument("--suite", default=NODE_SUITE)
    args = parser.parse_args(argv)
    try:
        override = os.environ.get("HOMELAB_MIRROR_URL", "")
        found = from_url(override, args.suite) if override else pick(read_sources(args.apt_dir), args.suite)
    except LookupError as error:
        print(f"mirror: error: {error}", file=sys.stderr)
        return 1
    for name, value in found.items():
        print(f"{name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
