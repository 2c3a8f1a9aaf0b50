"""The run-mode probe (module_utils/download_probe.py, lookup homelab.stack.download_probe): a name that does not
resolve sends nothing; otherwise one HEAD request, whose status decides. Local servers only (127.0.0.1)."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import threading

import pytest

from conftest import ROOT, tool
from ansible_collections.homelab.stack.plugins.module_utils.download_probe import probe


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_HEAD(self):  # noqa: N802 (http.server's naming)
        self.seen.append((self.command, self.path))
        self.send_response(200 if self.path == "/InRelease" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _Handler.seen = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_answer_gives_its_status_with_one_head_request(server):
    assert probe(server + "/InRelease", 2) == {"resolved": True, "status": 200, "error": ""}
    assert probe(server + "/missing", 2)["status"] == 404
    assert _Handler.seen == [("HEAD", "/InRelease"), ("HEAD", "/missing")]


def test_unresolved_name_sends_nothing():
    def no_dns(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    class Refuse:
        def open(self, *args, **kwargs):
            raise AssertionError("a request was sent although the name did not resolve")

    result = probe("https://pkgs.k8s.io/core:/stable:/v1.31/deb/InRelease", 5, resolve=no_dns, opener=Refuse())
    assert result["resolved"] is False and result["status"] is None
    assert result["error"].startswith("pkgs.k8s.io does not resolve")


def test_no_answer_is_reported_not_raised():
    with socket.socket() as sock:  # a port nobody listens on: bound, never accepted
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe(f"http://127.0.0.1:{port}/", 1)
    assert result["resolved"] is True and result["status"] is None
    assert result["error"].startswith("127.0.0.1 did not answer")


@pytest.mark.parametrize("url, timeout, message", [
    ("pkgs.k8s.io/InRelease", 5, "use an http(s) URL"),
    ("ftp://pkgs.k8s.io/", 5, "use an http(s) URL"),
    ("https://pkgs.k8s.io/", "soon", "timeout='soon'"),
    ("https://pkgs.k8s.io/", 0, "above 0"),
])
def test_bad_input_names_the_value_and_the_fix(url, timeout, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        probe(url, timeout)


def _ansible_debug(expression):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.json",
               ANSIBLE_LOCALHOST_WARNING="false")
    result = subprocess.run([tool("ansible"), "-i", "localhost,", "-c", "local", "localhost",
                             "-m", "ansible.builtin.debug", "-a", f"msg={expression}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return result, (json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
                    if result.stdout.startswith("{") else {})


def test_lookup_in_ansible(server):
    result, task = _ansible_debug(
        f"{{{{ query('homelab.stack.download_probe', '{server}/InRelease', '{server}/gone', timeout=2) }}}}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [answer["status"] for answer in task["msg"]] == [200, 404]
    result, task = _ansible_debug("{{ query('homelab.stack.download_probe', 'no-scheme') }}")
    assert result.returncode != 0 and "url='no-scheme': use an http(s) URL" in task["msg"]
    result, task = _ansible_debug(
        "{{ query('homelab.stack.download_probe', 'no-scheme', variable='homelab_online_probe_url') }}")
    assert result.returncode != 0 and "homelab_online_probe_url='no-scheme': use an http(s) URL" in task["msg"]

