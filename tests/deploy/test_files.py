"""The deployment files (deploy/): the systemd units pass systemd's own checks and are hardened,
the container file installs the lock and starts the start script, the nginx site proxies the
realtime paths. (The stack itself is tried whole in test_stack.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.stack import NGINX_SITE, REPO, START_SCRIPT

pytestmark = pytest.mark.deploy

UNITS = REPO / "deploy" / "systemd"
SERVICES = ("kefu-migrate.service", "kefu-serve@.service", "kefu-worker@.service")
HARDENING = {
    "User": "kefu",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "ReadWritePaths": "/var/lib/kefu",
    "CapabilityBoundingSet": "",
}


def _directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            name, value = line.split("=", 1)
            found.setdefault(name.strip(), []).append(value.strip())
    return found


def _verify(folder: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", *units],
        cwd=folder, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _units_here(tmp_path: Path) -> Path:
    """The unit files with the start script where this checkout has it (not /opt/kefu)."""
    for unit in UNITS.glob("kefu*"):
        text = unit.read_text().replace("/opt/kefu/deploy/kefu-start", str(START_SCRIPT))
        (tmp_path / unit.name).write_text(text)
    return tmp_path


def test_the_units_pass_systemd_analyze_verify_without_a_word(tmp_path):
    folder = _units_here(tmp_path)
    checked = _verify(
        folder, "kefu-migrate.service", "kefu-serve@8001.service", "kefu-worker@1.service",
        "kefu.target",
    )  # fmt: skip
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_verify_would_catch_a_mistake_in_a_unit(tmp_path):
    folder = _units_here(tmp_path)
    unit = folder / "kefu-serve@.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=strickt"))
    checked = _verify(folder, "kefu-serve@8001.service")
    assert "strickt" in checked.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_hardened_and_calls_the_start_script(name):
    directives = _directives(UNITS / name)
    for directive, value in HARDENING.items():
        assert directives.get(directive) == [value], directive
    role = name.removeprefix("kefu-").split("@")[0].split(".")[0]
    assert directives["ExecStart"] == [f"/opt/kefu/deploy/kefu-start {role}"]
    assert directives["EnvironmentFile"] == ["/etc/kefu/kefu.env"]
    # The schema owner's URL only where the schema is upgraded (migrate, and serve's --migrate).
    owner = ["kefu-migrate-database-url"] if role in ("migrate", "serve") else []
    assert directives["LoadCredentialEncrypted"] == [
        "kefu-secret-key", "kefu-database-url", *owner, "kefu-redis-url"
    ]  # fmt: skip


def test_servers_and_workers_wait_for_the_migration_and_the_target_starts_them_all():
    for name in SERVICES[1:]:
        directives = _directives(UNITS / name)
        assert directives["Requires"] == ["kefu-migrate.service"]
        assert "kefu-migrate.service" in directives["After"][0].split()
    assert "KEFU_PORT=%i" in _directives(UNITS / "kefu-serve@.service")["Environment"][0].split()
    wants = _directives(UNITS / "kefu.target")["Wants"][0].split()
    assert "kefu-migrate.service" in wants
    assert any(w.startswith("kefu-serve@") for w in wants)
    assert any(w.startswith("kefu-worker@") for w in wants)


def test_the_container_installs_the_lock_as_a_user_and_starts_the_start_script():
    containerfile = (REPO / "deploy" / "Containerfile").read_text()
    lines = [line.strip() for line in containerfile.splitlines() if not line.startswith("#")]
    assert "FROM docker.io/library/python:3.11-slim" in lines
    assert "COPY requirements.lock ./" in lines
    assert any("pip install -r requirements.lock" in line for line in lines)
    assert "COPY deploy/kefu-start /usr/local/bin/kefu-start" in lines
    assert 'ENTRYPOINT ["/usr/local/bin/kefu-start"]' in lines
    users = [line for line in lines if line.startswith("USER ")]
    assert users and users[-1] == "USER kefu"  # the last USER: the process never runs as root


def test_the_nginx_site_upgrades_the_realtime_paths_and_shares_no_sticky_sessions():
    site = NGINX_SITE.read_text()
    servers = re.findall(r"^\s+server 127\.0\.0\.1:\d+", site, flags=re.MULTILINE)
    assert len(servers) >= 2
    for path in ("location = /api/v1/events", "location /chat/ws/"):
        assert path in site
    assert "proxy_set_header Upgrade    $http_upgrade;" in site
    assert "proxy_set_header X-Forwarded-For   $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    directives = "\n".join(line.split("#")[0] for line in site.splitlines())
    for sticky in ("ip_hash", "sticky", "hash $"):
        assert sticky not in directives


def test_nginx_allows_the_body_kefu_allows_for_an_upload():
    from kefu.settings import Settings

    limit = re.search(r"client_max_body_size (\d+)m;", NGINX_SITE.read_text())
    assert limit is not None
    # api/limits.py: an upload's body may be twice the largest attachment (app.py).
    assert int(limit.group(1)) * 1_048_576 == Settings().max_attachment_bytes * 2


def test_the_start_script_refuses_an_unknown_role_and_production_without_a_secret(tmp_path):
    unknown = subprocess.run([str(START_SCRIPT), "web"], capture_output=True, text=True)
    assert unknown.returncode == 64 and "usage" in unknown.stderr
    production = subprocess.run(
        [str(START_SCRIPT), "serve"],
        env={"PATH": "/usr/bin:/bin", "KEFU_PYTHON": "/bin/false", "KEFU_ENV": "production"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert production.returncode == 78 and "KEFU_SECRET_KEY" in production.stderr


def test_the_start_script_takes_the_secrets_as_credentials_or_files(tmp_path):
    """Regression: a production start with the secrets as systemd credentials (the shipped
    units) or as files must not be refused for a KEFU_SECRET_KEY missing from the environment."""
    (tmp_path / "kefu-secret-key").write_text("k" * 40)
    (tmp_path / "kefu-database-url").write_text("sqlite:////var/lib/kefu/kefu.db")
    base = {"PATH": "/usr/bin:/bin", "KEFU_PYTHON": "/bin/echo", "KEFU_ENV": "production"}
    for env in (
        {**base, "CREDENTIALS_DIRECTORY": str(tmp_path)},
        {**base, "KEFU_SECRET_KEY_FILE": str(tmp_path / "kefu-secret-key"),
         "KEFU_DATABASE_URL_FILE": str(tmp_path / "kefu-database-url")},
    ):  # fmt: skip
        started = subprocess.run([str(START_SCRIPT), "migrate"], env=env, capture_output=True,
                                 text=True)  # fmt: skip
        assert (started.returncode, started.stdout) == (0, "-m kefu db upgrade\n"), started.stderr
    missing = {**base, "KEFU_SECRET_KEY_FILE": str(tmp_path / "kefu-secret-key")}
    refused = subprocess.run([str(START_SCRIPT), "migrate"], env=missing, capture_output=True,
                             text=True)  # fmt: skip
    assert refused.returncode == 78 and "KEFU_DATABASE_URL" in refused.stderr


def test_nginx_lets_an_idle_upstream_connection_go_before_uvicorn_closes_it():
    """Regression (benchmarks/scale.py, a 502 for a webhook): nginx reused a keep-alive
    connection to kefu at the moment uvicorn closed it, and may not retry a POST."""
    import uvicorn

    upstream = re.search(r"upstream kefu \{(.*?)\n\}", NGINX_SITE.read_text(), flags=re.DOTALL)
    assert upstream is not None
    timeout = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    assert timeout is not None
    assert (
        int(timeout.group(1))
        < uvicorn.Config("kefu.app:create_app", log_config=None).timeout_keep_alive
    )


def _site_directive(name: str) -> str:
    found = re.findall(rf"^\s+{name} ([^;]+);", NGINX_SITE.read_text(), flags=re.MULTILINE)
    assert len(found) == 1, name
    return found[0]


def test_nginx_offers_tls_1_2_only_forward_secret_aead_suites_and_lets_the_client_choose():
    """ASVS V12.1.2: every suite named is ECDHE with AES-GCM or ChaCha20-Poly1305, and OpenSSL's
    own reading of the list (what nginx hands it) holds nothing else for TLS 1.2."""
    assert _site_directive("ssl_protocols").split() == ["TLSv1.2", "TLSv1.3"]
    assert _site_directive("ssl_prefer_server_ciphers") == "off"
    suites = _site_directive("ssl_ciphers").split(":")
    assert suites
    for suite in suites:  # names only: no aliases (HIGH, DEFAULT) that grow with OpenSSL
        assert re.fullmatch(r"ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)", suite), suite  # fmt: skip
    expanded = subprocess.run(
        ["openssl", "ciphers", "-v", ":".join(suites)],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    tls12 = [line.split() for line in expanded if line.split()[1] == "TLSv1.2"]
    assert len(tls12) == len(suites)
    for name, _version, kx, _au, enc, mac in tls12:
        assert kx == "Kx=ECDH" and mac == "Mac=AEAD", name
        assert enc.startswith(("Enc=AESGCM", "Enc=CHACHA20/POLY1305")), name


def test_the_nginx_site_caches_and_stores_nothing_it_proxies():
    """ASVS V14.2.2: no answer of kefu (a case, a customer) is kept on the proxy's disk."""
    directives = "\n".join(line.split("#")[0] for line in NGINX_SITE.read_text().splitlines())
    for kept in ("proxy_cache", "proxy_store", "fastcgi_cache", "uwsgi_cache", "scgi_cache"):
        assert kept not in directives


def test_nginx_proxies_to_kefu_over_verified_https_only():
    """ASVS V12.3.3, V12.3.4: every proxy_pass is https, kefu's certificate verified against the
    internal CA for the name kefu's certificates carry."""
    directives = "\n".join(line.split("#")[0] for line in NGINX_SITE.read_text().splitlines())
    passes = re.findall(r"proxy_pass (\S+);", directives)
    assert passes and set(passes) == {"https://kefu"}
    assert _site_directive("proxy_ssl_verify") == "on"
    assert _site_directive("proxy_ssl_trusted_certificate").endswith("ca.pem")
    assert _site_directive("proxy_ssl_name") == "kefu.internal"
    assert _site_directive("proxy_ssl_certificate").endswith(
        "nginx.pem"
    )  # kefu's KEFU_SSL_CLIENT_CA


def test_the_start_script_hands_kefu_serve_its_certificate_and_refuses_half_of_one(tmp_path):
    cert, key = tmp_path / "kefu.pem", tmp_path / "kefu-key.pem"
    cert.write_text("certificate")
    key.write_text("key")
    env = {"PATH": "/usr/bin:/bin", "KEFU_PYTHON": "/bin/echo", "KEFU_SSL_CERTFILE": str(cert)}
    started = subprocess.run(
        [str(START_SCRIPT), "serve"], env={**env, "KEFU_SSL_KEYFILE": str(key)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert f"--ssl-certfile {cert} --ssl-keyfile {key}" in started.stdout
    mutual = subprocess.run(
        [str(START_SCRIPT), "serve"],
        env={**env, "KEFU_SSL_KEYFILE": str(key), "KEFU_SSL_CLIENT_CA": str(cert)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert f"--ssl-keyfile {key} --ssl-client-ca {cert}" in mutual.stdout
    half = subprocess.run([str(START_SCRIPT), "serve"], env=env, capture_output=True, text=True)
    assert half.returncode == 78 and "KEFU_SSL_KEYFILE" in half.stderr


def test_the_start_script_warns_of_links_without_verified_tls_in_production(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin", "KEFU_PYTHON": "/bin/echo", "KEFU_ENV": "production",
        "KEFU_SECRET_KEY": "x" * 40, "KEFU_DATABASE_URL": "postgresql+psycopg://kefu@db/kefu",
        "KEFU_REDIS_URL": "redis://redis:6379/0",
    }  # fmt: skip
    started = subprocess.run([str(START_SCRIPT), "worker"], env=env, capture_output=True, text=True)
    assert started.returncode == 0
    assert "sslmode=verify-full" in started.stderr and "rediss://" in started.stderr
    verified = {
        **env,
        "KEFU_DATABASE_URL": env["KEFU_DATABASE_URL"] + "?sslmode=verify-full&sslrootcert=/ca.pem",
        "KEFU_REDIS_URL": "rediss://kefu:pw@redis:6380/0?ssl_ca_certs=/ca.pem",
    }
    quiet = subprocess.run(
        [str(START_SCRIPT), "worker"], env=verified, capture_output=True, text=True
    )
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_the_shipped_settings_require_two_step_sign_in_for_all_staff(tmp_path, monkeypatch):
    """ASVS V6.3.3 in the shipped production settings: every staff member, not only admins."""
    from kefu.settings import Settings

    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("KEFU_TOTP_REQUIRED_FOR", raising=False)
    monkeypatch.delenv("KEFU_TOTP_REQUIRED_FOR_ADMINS", raising=False)
    example = UNITS / "kefu.env.example"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=example, env="development", secret_key="k" * 40, data_dir=tmp_path
    )
    assert settings.totp_required("agent") and settings.totp_required("admin")
