"""The deployment of docs/deployment.md on loopback, as tests/deploy and benchmarks/scale.py start
it: the private nginx's configuration made from deploy/nginx/kefu.conf, a self-signed
certificate, free ports. (No pytest here: the benchmark imports it.)"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_SCRIPT = REPO / "deploy" / "kefu-start"
NGINX_SITE = REPO / "deploy" / "nginx" / "kefu.conf"
NGINX = "/usr/sbin/nginx"
PROXY_PEER = "127.0.0.2"  # nginx → kefu
BROWSER = "127.0.0.3"  # the test → nginx
UPSTREAM_HEADER = "x-test-upstream"  # added by this nginx only: which kefu answered


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tls(folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 and a client context that trusts it alone."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))
    return cert, key, context


def _replace(config: str, pattern: str, replacement: str, *, count: int = 1) -> str:
    """One edit of the shipped site configuration; fails when it no longer says what the test
    edits (the test must follow the file, not silently test something else)."""
    edited, made = re.subn(pattern, replacement, config, flags=re.MULTILINE)
    assert made == count, f"deploy/nginx/kefu.conf: {pattern!r} matched {made} times"
    return edited


def nginx_site(backends: list[int], https_port: int, http_port: int, folder: Path) -> str:
    """deploy/nginx/kefu.conf with this machine's ports, certificate and log files."""
    config = NGINX_SITE.read_text()
    servers = "".join(
        f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in backends
    )
    config = _replace(
        config, r"^    server 127\.0\.0\.1:\d+ [^\n]*\n(?:    server [^\n]*\n)*", servers
    )
    config = _replace(config, r"^    listen 80;$", f"    listen 127.0.0.1:{http_port};")
    config = _replace(config, r"^    listen 443 ssl http2;$", f"    listen 127.0.0.1:{https_port} ssl http2;")  # fmt: skip
    config = _replace(config, r"^    listen \[::\]:\d+[^\n]*\n", "", count=2)
    config = _replace(
        config, r"^    ssl_certificate .*$", f"    ssl_certificate {folder}/cert.pem;"
    )
    config = _replace(config, r"^    ssl_certificate_key .*$", f"    ssl_certificate_key {folder}/key.pem;")  # fmt: skip
    config = _replace(config, r"^    access_log /var/log/nginx/kefu\.access\.log", f"    access_log {folder}/nginx-access.log")  # fmt: skip
    config = _replace(config, r"^    error_log  /var/log/nginx/kefu\.error\.log", f"    error_log {folder}/nginx-error.log")  # fmt: skip
    # The test's own additions: which kefu answered, and nginx's own address towards kefu.
    return _replace(
        config,
        r"^    proxy_read_timeout 75s;$",
        "    proxy_read_timeout 75s;\n"
        f"    add_header X-Test-Upstream $upstream_addr always;\n    proxy_bind {PROXY_PEER};",
    )


def nginx_main(folder: Path) -> str:
    """The main configuration of the private nginx: everything under ``folder``."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder}/nginx-temp/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/nginx-error.log warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n{temp}    access_log off;\n    include {folder}/kefu.conf;\n}}\n"
    )


def configure_nginx(
    folder: Path, backends: list[int], https_port: int, http_port: int
) -> list[str]:
    """Write the private nginx's configuration under ``folder`` and check it (``nginx -t``);
    the command that runs it in the foreground."""
    (folder / "nginx-temp").mkdir(exist_ok=True)
    (folder / "kefu.conf").write_text(nginx_site(backends, https_port, http_port, folder))
    (folder / "nginx.conf").write_text(nginx_main(folder))
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the configuration:\n{checked.stderr}")
    return command
