# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Pure functions behind homelab.stack.host_state: read, in one pass, the state the host-layer roles manage.

The host-layer roles run their usual modules (apt, template, copy, blockinfile, sysctl, systemd_service, ...)
only when this read shows a difference from the desired state; a node already converged costs one module run
per role. Every reader decides the way the module it stands in for does, and anything it cannot decide reads
as "different", so a doubt always runs the real modules. No Ansible imports: pytest uses these directly.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import socket
import stat

TYPES = {stat.S_IFREG: "file", stat.S_IFDIR: "directory", stat.S_IFLNK: "link"}


def file_state(path):
    """exists, type, mode (e.g. "0644"), owner, group and, for a regular file, the sha1 of its content.

    The link itself is described, never its target (a link where a file belongs is a difference).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    result = {"exists": True, "type": TYPES.get(stat.S_IFMT(st.st_mode), "other"),
              "mode": "%04o" % stat.S_IMODE(st.st_mode), "owner": _name(pwd.getpwuid, st.st_uid),
              "group": _name(grp.getgrgid, st.st_gid)}
    if result["type"] == "file":
        digest = hashlib.sha1()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(65536), b""):
                digest.update(chunk)
        result["checksum"] = digest.hexdigest()
    return result


def file_differs(wanted, actual):
    """Whether a path differs from what copy/template/file would leave: wanted has state (file, directory or
    absent; default file) and optionally checksum (sha1 of the content), mode, owner and group."""
    state = wanted.get("state") or "file"
    if state == "absent":
        return actual["exists"]
    if actual.get("type") != state:
        return True
    if state == "file" and wanted.get("checksum") is not None and actual.get("checksum") != wanted["checksum"]:
        return True
    if wanted.get("mode") is not None and actual["mode"] != "%04o" % _mode(wanted["mode"]):
        return True
    return any(wanted.get(key) is not None and actual[key] != wanted[key] for key in ("owner", "group"))


def _mode(mode):
    return int(mode, 8) if isinstance(mode, str) else int(mode)


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def read_text(path):
    """The file's text, or None when it does not exist or cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()
    except OSError:
        return None


def subdirectories(path):
    """Names of the directories directly under path (sorted), or None when path is not a directory."""
    try:
        return sorted(entry.name for entry in os.scandir(path) if entry.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return None


def block_lines(text, marker_begin, marker_end):
    """The lines ansible.builtin.blockinfile finds between its markers, or None when it would insert a block.

    Like blockinfile: the last line equal to each marker (with its newline) counts, and the block is only
    found when both exist with the begin marker first.
    """
    if text is None:
        return None
    lines = text.splitlines(keepends=True)
    begin = end = None
    for index, line in enumerate(lines):
        if line == marker_begin + "\n":
            begin = index
        if line == marker_end + "\n":
            end = index
    if begin is None or end is None or begin > end:
        return None
    return [line[:-1] if line.endswith("\n") else line for line in lines[begin + 1:end]]


def parse_dpkg(output):
    """{package: version} of the installed packages in `dpkg-query -W -f '${Package} ${db:Status-Abbrev}
    ${Version}\\n'` output (status "ii": wanted install, installed)."""
    installed = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "ii":
            installed[parts[0].split(":", 1)[0]] = parts[2]
    return installed


def package_versions(names, run):
    """{name: installed version or None}; run(argv) -> (rc, stdout, stderr). Names may carry `=version`,
    which is stripped (the caller compares versions)."""
    bare = [name.split("=", 1)[0] for name in names]
    if not bare:
        return {}
    if not shutil.which("dpkg-query"):
        return {name: None for name in bare}
    # rc 1 only means that some name is unknown to dpkg: the others are still listed.
    _, out, _ = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev} ${Version}\n", *bare])
    installed = parse_dpkg(out)
    return {name: installed.get(name) for name in bare}


def service_states(names, run):
    """{name: {"enabled": bool, "active": bool}} from `systemctl show`; unknown units are neither."""
    states = {}
    for name in names:
        rc, out, _ = run(["systemctl", "show", "--property=UnitFileState,ActiveState", "--", name])
        props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line) if rc == 0 else {}
        states[name] = {"enabled": props.get("UnitFileState") == "enabled",
                        "active": props.get("ActiveState") == "active"}
    return states


def sysctl_values(keys, proc="/proc/sys"):
    """{key: live value with whitespace collapsed, or None}; keys use dots (net.ipv4.ip_forward)."""
    values = {}
    for key in keys:
        text = read_text(os.path.join(proc, *key.split(".")))
        values[key] = " ".join(text.split()) if text is not None else None
    return values


def modules_loaded(names, release=None, modules="/proc/modules", lib="/lib/modules"):
    """{name: loaded} the way community.general.modprobe decides it (/proc/modules, then modules.builtin);
    None for every name when the kernel has no module support to ask (/proc/modules missing)."""
    loaded_text = read_text(modules)
    if loaded_text is None:
        return {name: None for name in names}
    builtin = read_text(os.path.join(lib, release or os.uname().release, "modules.builtin")) or ""
    builtin_lines = [line.rstrip() for line in builtin.splitlines()]
    result = {}
    for name in names:
        prefix = name.replace("-", "_") + " "
        found = any(line.startswith(prefix) for line in loaded_text.splitlines(keepends=True))
        result[name] = found or any(line.endswith("/" + name + ".ko") for line in builtin_lines)
    return result


def read_state(params, run):
    """Everything the parameters ask for, in one dict (the module's result)."""
    files = {entry["path"]: file_state(entry["path"]) for entry in params.get("files") or []}
    return {
        "hostname": socket.gethostname(),
        "files": files,
        "files_differ": [entry["path"] for entry in params.get("files") or []
                         if file_differs(entry, files[entry["path"]])],
        "contents": {path: read_text(path) for path in params.get("contents") or []},
        "directories": {path: subdirectories(path) for path in params.get("directories") or []},
        "blocks": [block_lines(read_text(b["path"]), b["marker_begin"], b["marker_end"])
                   for b in params.get("blocks") or []],
        "packages": package_versions(params.get("packages") or [], run),
        "services": service_states(params.get("services") or [], run),
        "sysctls": sysctl_values(params.get("sysctls") or []),
        "kernel_modules": modules_loaded(params.get("kernel_modules") or []),
        "commands": {name: shutil.which(name) for name in params.get("commands") or []},
    }
