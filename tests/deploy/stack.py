"""The deployment of docs/deployment.md on loopback, as tests/deploy and benchmarks/scale.py start
it: the private nginx's configuration made from deploy/nginx/kefu.conf, certificates from a CA
made here, free ports. (No pytest here: the benchmark imports it.)"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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


INTERNAL_NAME = "kefu.internal"  # proxy_ssl_name of deploy/nginx/kefu.conf


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(
    folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = folder / f"{name}-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)


def make_ca(folder: Path, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA of the test's own, written as ``{name}.pem`` and ``{name}-key.pem``."""
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .sign(key, hashes.SHA256())
    )
    _write(folder, name, cert, key)
    return cert, key


def issue(
    folder: Path, name: str, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    names: list[str], *, usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.SERVER_AUTH,
) -> None:  # fmt: skip
    """A certificate signed by ``ca`` for ``names`` (DNS names and IP addresses), a server's or
    (``usage``) a client's, written as ``{name}.pem`` (the certificate, then the CA's: a chain)
    and ``{name}-key.pem``."""
    key = _key()
    alternative: list[x509.GeneralName] = []
    for entry in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(entry)))
        except ValueError:
            alternative.append(x509.DNSName(entry))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(ca[1], hashes.SHA256())
    )
    _write(folder, name, cert, key)
    with (folder / f"{name}.pem").open("ab") as chain:
        chain.write(ca[0].public_bytes(serialization.Encoding.PEM))


def make_tls(folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """The deployment's certificates, from a CA made here (``ca.pem``): nginx's public one for
    127.0.0.1 (``cert.pem``, ``cert-key.pem``), each kefu serve's for kefu.internal
    (``kefu.pem``), PostgreSQL's and Redis's for 127.0.0.1; and a client context that trusts
    that CA alone."""
    ca = make_ca(folder, "ca")
    issue(folder, "cert", ca, ["127.0.0.1"])
    issue(folder, "kefu", ca, [INTERNAL_NAME, "127.0.0.1"])
    issue(folder, "postgres", ca, ["127.0.0.1", "localhost"])
    issue(folder, "redis", ca, ["127.0.0.1", "localhost"])
    client = ExtendedKeyUsageOID.CLIENT_AUTH
    issue(folder, "nginx", ca, ["nginx.internal"], usage=client)  # nginx → kefu
    issue(folder, "monitor", ca, ["monitor.internal"], usage=client)  # the test → kefu, directly
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    return folder / "cert.pem", folder / "cert-key.pem", context


def kefu_tls(folder: Path) -> dict[str, str]:
    """The environment that makes kefu serve https with the certificate make_tls issued, to
    clients with a certificate of the same CA only."""
    return {
        "KEFU_SSL_CERTFILE": str(folder / "kefu.pem"),
        "KEFU_SSL_KEYFILE": str(folder / "kefu-key.pem"),
        "KEFU_SSL_CLIENT_CA": str(folder / "ca.pem"),
    }


def internal_tls(folder: Path) -> ssl.SSLContext:
    """A client of kefu's own port (a monitor's scrape, the test's probes): trusts the CA and
    shows a client certificate of it."""
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    context.load_cert_chain(folder / "monitor.pem", folder / "monitor-key.pem")
    return context


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
    config = _replace(config, r"^    ssl_certificate_key .*$", f"    ssl_certificate_key {folder}/cert-key.pem;")  # fmt: skip
    config = _replace(config, r"^    proxy_ssl_trusted_certificate .*$", f"    proxy_ssl_trusted_certificate {folder}/ca.pem;")  # fmt: skip
    config = _replace(config, r"^    proxy_ssl_certificate .*$", f"    proxy_ssl_certificate {folder}/nginx.pem;")  # fmt: skip
    config = _replace(config, r"^    proxy_ssl_certificate_key .*$", f"    proxy_ssl_certificate_key {folder}/nginx-key.pem;")  # fmt: skip
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
