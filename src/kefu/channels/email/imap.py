"""Reading one IMAP folder: the translation between kefu's fetcher (services/mail/fetch.py) and
an IMAP server, through imapclient. It decides nothing: which UIDs to fetch, what to store and
when the cursor moves are the fetcher's.

Mail is read with ``BODY.PEEK[]``, so reading it sets no ``\\Seen`` flag: a message a person
has already read elsewhere is still imported (the cursor is the UID, not the flags).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

SECURITIES = ("ssl", "starttls", "none")


class ImapFailed(Exception):  # noqa: N818 - a failure of the server or the settings, not a bug
    """The server could not be reached, refused the login or the folder; ``str`` says why."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str  # ssl | starttls | none
    username: str
    password: str
    folder: str = "INBOX"
    timeout: float = 30.0


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    supports_idle: bool


@dataclass(frozen=True)
class Waiting:
    """A message in the folder the fetcher has not taken yet: its UID and size in bytes."""

    uid: int
    size: int


class ImapFolder:
    """One logged-in connection to one folder. Use as a context manager or call ``close``."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.client: IMAPClient | None = None

    def open(self) -> FolderState:
        s = self.settings
        try:
            context = ssl.create_default_context() if s.security != "none" else None
            client = IMAPClient(
                s.host, port=s.port, ssl=s.security == "ssl", ssl_context=context, timeout=s.timeout
            )
            self.client = client
            if s.security == "starttls":
                client.starttls(context)
            client.login(s.username, s.password)
            selected = client.select_folder(s.folder, readonly=True)
            supports_idle = client.has_capability("IDLE")
        except (IMAPClientError, OSError, ssl.SSLError) as e:
            self.close()
            raise ImapFailed(_reason(e)) from e
        return FolderState(int(selected[b"UIDVALIDITY"]), supports_idle)

    def __enter__(self) -> ImapFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _client(self) -> IMAPClient:
        if self.client is None:
            raise ImapFailed("not connected")
        return self.client

    def waiting_after(self, last_uid: int) -> list[Waiting]:
        """The messages with a UID above ``last_uid``, in UID order."""
        try:
            # "N:*" always includes the folder's last message, even when its UID is below N.
            uids = [u for u in self._client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid]
            if not uids:
                return []
            sizes = self._client.fetch(sorted(uids), ["RFC822.SIZE"])
        except (IMAPClientError, OSError) as e:
            raise ImapFailed(_reason(e)) from e
        return [Waiting(uid, int(sizes[uid][b"RFC822.SIZE"])) for uid in sorted(sizes)]

    def fetch(self, uid: int) -> bytes | None:
        """The whole raw message (None: it is gone, expunged since the listing)."""
        return self._part(uid, "BODY.PEEK[]", b"BODY[]")

    def fetch_header(self, uid: int) -> bytes | None:
        """The message's header only (what is kept of a mail too large to take)."""
        return self._part(uid, "BODY.PEEK[HEADER]", b"BODY[HEADER]")

    def _part(self, uid: int, item: str, key: bytes) -> bytes | None:
        try:
            got: dict[int, dict[bytes, Any]] = self._client.fetch([uid], [item])
        except (IMAPClientError, OSError) as e:
            raise ImapFailed(_reason(e)) from e
        data = got.get(uid, {}).get(key)
        return bytes(data) if data is not None else None

    def wait_for_new(self, seconds: float) -> bool:
        """IDLE until the server says something changed or ``seconds`` pass (RFC 2177 asks
        clients to re-issue IDLE at least every 29 minutes). True: something arrived."""
        client = self._client
        try:
            sock = client.socket()
            timeout = sock.gettimeout()
            client.idle()
            try:
                if _already_read(client):
                    # The server announced a change with IDLE's go-ahead (mail that landed since
                    # the last look): imapclient read it into its buffer with the go-ahead, and
                    # idle_check, which waits on the socket, would not see it until the timeout.
                    return True
                responses = client.idle_check(timeout=seconds)
            finally:
                sock.settimeout(timeout)  # idle_check leaves the socket without one
                client.idle_done()
        except (IMAPClientError, OSError) as e:
            raise ImapFailed(_reason(e)) from e
        return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001, S110 - closing a connection that may be dead already
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001, S110
                pass


def _already_read(client: IMAPClient) -> bool:
    """Whether lines the server sent are waiting in the client's read buffer (imaplib's file
    over the socket, or TLS's own buffer under it) rather than on the socket: a peek without
    blocking, which reads nothing new. imapclient 4.1 keeps imaplib's connection as ``_imap``."""
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(client._imap.file.peek(1))  # noqa: SLF001 - imapclient exposes no buffer
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)


def _reason(e: BaseException) -> str:
    return (str(e) or type(e).__name__)[:500]


def check_login(settings: ImapSettings) -> FolderState:
    """Log in and select the folder, then log out (the admin page's "测试连接")."""
    with ImapFolder(settings) as folder:
        return folder.open()
