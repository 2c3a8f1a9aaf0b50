# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""Whether the controller can download: resolve the host of a URL, then send one HEAD request to it.

The name is resolved first, so a controller without DNS for it sends no packet at all. Runs in the Ansible
process (a lookup), not as a module: deciding the run mode must not cost a module round trip on every run.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def probe(url, timeout=5, resolve=socket.getaddrinfo, opener=None, variable="url"):
    """Return {'resolved': bool, 'status': HTTP status or None, 'error': why there is no status, or ''}.

    resolve and opener are the name lookup and urllib opener (replaceable in tests); variable is the name the
    URL came from, named in the error a malformed URL raises.
    """
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{variable}={url!r}: use an http(s) URL with a host name, such as https://pkgs.k8s.io/")
    try:
        timeout = float(timeout)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"timeout={timeout!r}: use a number of seconds") from exc
    if timeout <= 0:
        raise ValueError(f"timeout={timeout!r}: use a number of seconds above 0")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError) as exc:
        return {"resolved": False, "status": None, "error": f"{parts.hostname} does not resolve ({exc})"}
    opener = opener or urllib.request.build_opener()
    request = urllib.request.Request(str(url), method="HEAD")
    try:
        with opener.open(request, timeout=timeout) as response:
            return {"resolved": True, "status": int(response.status), "error": ""}
    except urllib.error.HTTPError as exc:
        return {"resolved": True, "status": int(exc.code), "error": ""}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return {"resolved": True, "status": None, "error": f"{parts.hostname} did not answer ({reason})"}
