"""A private Dovecot (Debian's /usr/sbin/dovecot) for the mail tests: IMAP on a free loopback
port, any user name with PASSWORD (a static passdb), maildirs under a temporary directory (Debian's LMTP server is
not installed here: mail arrives by IMAP APPEND, or by a local delivery agent writing to
``maildir_of(address)``, e.g. /usr/lib/dovecot/dovecot-lda with ``-c`` this configuration).

``Dovecot.start(root)`` writes ``root/dovecot.conf`` and runs ``dovecot -c CONF -F`` in the
background; ``stop()`` ends that process (and only it). The mail files are owned by the user
running the tests' uid: Dovecot runs its mail processes as ``mail_uid`` (``nobody`` when the
tests run as root, the owner Postfix's virtual agent writes with, so a Dovecot maildir can be
Postfix's catch-all maildir: ``share_maildir``; else the current user) and its login processes as
``dovenull``.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = Path(os.environ.get("KEFU_DOVECOT", "/usr/sbin/dovecot"))
NOBODY = 65534
PASSWORD = "kefu-mail-test"  # every test user's password (a static passdb)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(
        f"dovecot did not listen on {port}: {log.read_text(errors='replace')[-2000:]}"
    )


@dataclass
class Dovecot:
    root: Path
    imap_port: int = 0
    users: set[str] = field(default_factory=set)
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def mail_root(self) -> Path:
        return self.root / "mail"

    @classmethod
    def start(cls, root: Path | None = None) -> Dovecot:
        """Start an instance under ``root`` (default: a new directory in the system temp dir,
        reachable by Dovecot's unprivileged users: pytest's temp dirs are private to root)."""
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
            root.chmod(0o755)
        server = cls(root, imap_port=free_port())
        server._write_config()
        log = root / "dovecot.log"
        server.process = subprocess.Popen(  # noqa: S603 - a fixed binary with our own config
            [str(DOVECOT), "-c", str(root / "dovecot.conf"), "-F"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for_port(server.imap_port, server.process, log)
        return server

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the master and its children
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, name: str) -> str:
        """A mailbox user (``name@test.kefu``; any name logs in with PASSWORD, its maildir is
        made on first use); returns the address."""
        address = f"{name}@test.kefu"
        self.users.add(address)
        return address

    def maildir_of(self, address: str) -> Path:
        name, domain = address.split("@", 1)
        return self.mail_root / domain / name

    def share_maildir(self, address: str, maildir: Path) -> None:
        """Make ``address``'s mailbox the Maildir ``maildir`` (Postfix's catch-all): what Postfix
        delivers there, kefu's fetcher reads over IMAP."""
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for path in (maildir, *(maildir / sub for sub in ("new", "cur", "tmp"))):
                os.chown(path, NOBODY, NOBODY)
        target = self.maildir_of(address)
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(target.parent, NOBODY, NOBODY)
        target.symlink_to(maildir, target_is_directory=True)

    def imap(self, address: str) -> imaplib.IMAP4:
        """A logged-in standard-library IMAP client (for APPEND and checking)."""
        client = imaplib.IMAP4(self.host, self.imap_port)
        client.login(address, PASSWORD)
        return client

    def append(self, address: str, raw: bytes, folder: str = "INBOX") -> None:
        client = self.imap(address)
        try:
            client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
        finally:
            client.logout()

    def _mail_owner(self) -> tuple[int, int]:
        if (
            os.geteuid() == 0
        ):  # nobody, as Postfix's virtual agent writes (tests/mailservers/postfix.py)
            return NOBODY, NOBODY
        return os.getuid(), os.getgid()

    def _write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.mail_root.mkdir(exist_ok=True)
        uid, gid = self._mail_owner()
        if os.geteuid() == 0:
            os.chown(self.mail_root, uid, gid)
        user = pwd.getpwuid(os.getuid()).pw_name
        internal = "dovecot" if os.geteuid() == 0 else user
        login = "dovenull" if os.geteuid() == 0 else user
        (self.root / "dovecot.conf").write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = kefu-test-{self.imap_port}
protocols = imap
listen = 127.0.0.1
log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
mail_location = maildir:{self.mail_root}/%d/%n
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
mail_privileged_group =
protocol imap {{
  mail_max_userip_connections = 100
}}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.mail_root}/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )
