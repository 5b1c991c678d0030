"""A private Postfix (Debian's /usr/sbin/postfix) for the tests: its own configuration, queue
and log under a temp dir, listening on a free loopback port, accepting mail for any address.

    with running_postfix(tmp_path) as server:
        smtplib.SMTP(server.host, server.port).send_message(...)
        server.wait_for("kf@shop.test")          # the raw bytes of the mails delivered to it

Delivery: by default Postfix's ``virtual`` agent writes every message to one catch-all Maildir
(``server.maildir``); ``delivered(address)`` picks those whose ``Delivered-To`` is the address.
With ``lmtp=(host, port)`` Postfix hands every message to that LMTP server instead (Dovecot's,
for the IMAP tests). Two addresses answer as real servers do when they refuse:
``REFUSED`` gets "550 5.1.1" (permanent) and ``DEFERRED`` "450 4.2.0" (try again later).
TLS: a self-signed certificate for 127.0.0.1 / localhost is made for each instance; ``port``
offers STARTTLS, ``tls_port`` speaks TLS from the first byte; ``client_tls_context()`` trusts
that certificate. No AUTH (Postfix's SASL needs Dovecot's or Cyrus' auth service).

Where: a fresh ``/tmp/kefu-postfix-*`` directory, removed on exit (Postfix's log is copied to
``tmpdir/postfix-maillog`` first). How it starts: ``postfix -c DIR start`` as root (the master runs the daemons as the ``postfix``
user, unchrooted); ``postfix -c DIR stop`` on exit. Postfix writes its log to ``DIR/maillog``
(no syslog needed); when start-up fails, the error says what the log says.
"""

from __future__ import annotations

import email
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

POSTFIX = Path(os.environ.get("KEFU_POSTFIX", "/usr/sbin/postfix"))
REFUSED = "refused@reject.test"
DEFERRED = "later@defer.test"
_NOBODY = 65534
_MASTER_CF = """\
{listen} inet n - n - - smtpd
{listen_tls} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
tlsmgr unix - - n 1000? 1 tlsmgr
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
smtp unix - - n - - smtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


@dataclass(frozen=True)
class PostfixServer:
    host: str
    port: int  # plain SMTP, STARTTLS offered
    tls_port: int  # SMTP over TLS from the first byte (what "ssl" mailboxes use, port 465 style)
    root: Path
    lmtp: tuple[str, int] | None

    @property
    def cert_file(self) -> Path:
        """The server's self-signed certificate (for 127.0.0.1 and localhost), PEM."""
        return self.root / "conf" / "cert.pem"

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.cert_file))

    @property
    def maildir(self) -> Path:
        """The catch-all Maildir (unused when delivering by LMTP)."""
        return self.root / "mail" / "catchall"

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def delivered(self, address: str | None = None) -> list[bytes]:
        """Raw mails in the catch-all Maildir, oldest first; only those delivered to
        ``address`` when given."""
        files = [
            path
            for sub in ("new", "cur")
            if (self.maildir / sub).is_dir()
            for path in (self.maildir / sub).iterdir()
        ]
        mails = [path.read_bytes() for path in sorted(files, key=lambda p: p.name)]
        if address is None:
            return mails
        wanted = address.lower()
        return [
            raw
            for raw in mails
            if wanted
            in (
                value.lower() for value in email.message_from_bytes(raw).get_all("Delivered-To", [])
            )
        ]

    def wait_for(
        self, address: str | None = None, *, count: int = 1, within: float = 30
    ) -> list[bytes]:
        """The mails delivered to ``address`` once there are ``count`` of them; fails with
        Postfix's log after ``within`` seconds (a deadline for a broken set-up, not a speed
        check)."""
        deadline = time.monotonic() + within
        while True:
            mails = self.delivered(address)
            if len(mails) >= count:
                return mails
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(mails)} of {count} mail(s) for {address} arrived; Postfix log:\n"
                    + self.log()[-4000:]
                )
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_postfix(
    tmpdir: Path,
    *,
    lmtp: tuple[str, int] | None = None,
    message_size_limit: int = 50 * 1024 * 1024,
) -> Iterator[PostfixServer]:
    if not POSTFIX.exists():
        raise RuntimeError(f"{POSTFIX} is missing: apt-get install postfix")
    if os.geteuid() != 0:
        raise RuntimeError("a private Postfix needs root (its master starts daemons as postfix)")
    # Not under pytest's temp tree: a pytest starting meanwhile (another run on the machine)
    # resets /tmp/pytest-of-<user> to 0700, and the daemons (user postfix) lose their way in.
    root = Path(tempfile.mkdtemp(prefix="kefu-postfix-"))
    root.chmod(0o755)
    server = PostfixServer(
        host="127.0.0.1", port=free_port(), tls_port=free_port(), root=root, lmtp=lmtp
    )
    try:
        _configure(server, message_size_limit)
        _postfix(root, "start")
        try:
            _wait_listening(server)
            yield server
        finally:
            _postfix(root, "stop")
    finally:
        if (root / "maillog").exists():
            shutil.copy(root / "maillog", Path(tmpdir) / "postfix-maillog")
        shutil.rmtree(root, ignore_errors=True)


def _configure(server: PostfixServer, message_size_limit: int) -> None:
    root = server.root
    conf = root / "conf"
    for sub in (conf, root / "queue", root / "data", root / "mail"):
        sub.mkdir(parents=True, exist_ok=True)
    os.chown(root / "data", _uid("postfix"), -1)
    os.chown(root / "mail", _NOBODY, _NOBODY)
    _write_certificate(conf)
    transport = f"lmtp:inet:{server.lmtp[0]}:{server.lmtp[1]}" if server.lmtp else "virtual"
    (conf / "recipient_access").write_text(
        f"{REFUSED} 550 5.1.1 no such user here\n{DEFERRED} 450 4.2.0 mailbox busy, try later\n"
    )
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": root / "queue",
        "data_directory": root / "data",
        "command_directory": "/usr/sbin",
        "daemon_directory": "/usr/lib/postfix/sbin",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "myhostname": "kefu-test.localhost",
        "mydomain": "localhost",
        "mydestination": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "smtpd_recipient_restrictions": f"check_recipient_access texthash:{conf}/recipient_access",
        "alias_maps": "",
        "alias_database": "",
        "local_recipient_maps": "",
        "virtual_mailbox_domains": "static:all",
        "virtual_mailbox_base": root / "mail",
        "virtual_mailbox_maps": "static:catchall/",
        "virtual_uid_maps": f"static:{_NOBODY}",
        "virtual_gid_maps": f"static:{_NOBODY}",
        "virtual_mailbox_limit": "0",
        "virtual_transport": transport,
        "message_size_limit": str(message_size_limit),
        "maillog_file": root / "maillog",
        "maillog_file_prefixes": root,
        "smtputf8_enable": "no",
        "biff": "no",
        "queue_run_delay": "1s",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
        "smtpd_tls_cert_file": conf / "cert.pem",
        "smtpd_tls_key_file": conf / "key.pem",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_loglevel": "1",
    }
    (conf / "main.cf").write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
    (conf / "master.cf").write_text(
        _MASTER_CF.format(
            listen=f"{server.host}:{server.port}", listen_tls=f"{server.host}:{server.tls_port}"
        )
    )


def _write_certificate(conf: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (conf / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = conf / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)


def _postfix(root: Path, command: str) -> None:
    done = subprocess.run(
        [str(POSTFIX), "-c", str(root / "conf"), command],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and command == "start":
        log = (root / "maillog").read_text(errors="replace") if (root / "maillog").exists() else ""
        raise RuntimeError(
            f"postfix {command} failed ({done.returncode}): {done.stderr.strip()}\n{log[-3000:]}"
        )


def _wait_listening(server: PostfixServer, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Postfix did not listen on {server.port}:\n{server.log()}"
                ) from None
            time.sleep(0.05)


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid
