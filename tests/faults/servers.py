"""Private servers for the fault tests: a PostgreSQL cluster and a Redis of their own on free
loopback ports, and kefu itself (``kefu serve``, ``kefu worker``) as real subprocesses on them.

The tests stop and start these servers at will; nothing else uses them, so the rest of the suite
(and CI's database) never sees an outage. PostgreSQL 15's binaries come from
``/usr/lib/postgresql/15/bin`` (``KEFU_PG_BIN``); when the tests run as root the cluster runs as
the ``postgres`` user (``runuser``), as PostgreSQL refuses to run as root. A cluster is made
once per session and migrated (``template_cluster``); each test module starts a copy of it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PG_BIN = Path(os.environ.get("KEFU_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = os.environ.get("KEFU_REDIS_SERVER", "/usr/bin/redis-server")
ROOT = Path(__file__).resolve().parents[2]  # the checkout: its src/ is what the subprocesses run
DATABASE = "kefu"
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def outage_seconds() -> float:
    """How long each outage lasts (``KEFU_FAULT_OUTAGE_SECONDS``, default 2)."""
    return float(os.environ.get("KEFU_FAULT_OUTAGE_SECONDS", "2"))


def wait_until(condition: Callable[[], bool], seconds: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what or condition}")
        time.sleep(0.05)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def _as_postgres() -> list[str]:
    """How to run PostgreSQL's programs: as ``postgres`` when we are root (it refuses root)."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _hand_to_postgres(path: Path) -> None:
    if os.geteuid() != 0:
        return
    owner = pwd.getpwnam("postgres")
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), owner.pw_uid, owner.pw_gid)


@dataclass
class Postgres:
    """One cluster in ``root/data``, listening on ``port`` (TCP and a socket in ``root``)."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @classmethod
    def create(
        cls,
        *,
        configure: Callable[[Postgres], None] | None = None,
        database: str | None = DATABASE,
        prefix: str = "kefu-faults-pg-",
    ) -> Postgres:
        """A new cluster, started, with an empty ``database`` (none when None). ``configure``
        is given the cluster after initdb and before its first start (files of its own in
        ``root``, lines for ``data``'s configuration); what it writes is handed to postgres."""
        root = Path(tempfile.mkdtemp(prefix=prefix))
        root.chmod(0o755)
        server = cls(root)
        server.data.mkdir(mode=0o700)
        _hand_to_postgres(root)
        subprocess.run(  # noqa: S603 - PostgreSQL's own initdb on our directory
            [*_as_postgres(), str(PG_BIN / "initdb"), "-D", str(server.data), "-U", "postgres",
             "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"],
            check=True, capture_output=True,
        )  # fmt: skip
        if configure is not None:
            configure(server)
            _hand_to_postgres(root)
        server.start()
        if database is None:
            return server
        subprocess.run(  # noqa: S603
            [*_as_postgres(), str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(server.port),
             "-U", "postgres", database],
            check=True, capture_output=True,
        )  # fmt: skip
        return server

    def copy(self) -> Postgres:
        """A stopped copy of this (stopped) cluster, on another port."""
        root = Path(tempfile.mkdtemp(prefix="kefu-faults-pg-"))
        root.chmod(0o755)
        shutil.copytree(self.data, root / "data", symlinks=True)
        _hand_to_postgres(root)
        return Postgres(root)

    def start(self) -> None:
        # fsync off: the machine never crashes under these tests, only the server does, and the
        # kernel keeps what it was given. synchronous_commit stays on: with it off a commit
        # kefu acknowledged could vanish in ``stop -m immediate`` (the WAL writer's delay).
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(  # noqa: S603 - PostgreSQL's own pg_ctl on our cluster
            [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
             "-l", str(self.root / "postgres.log"), "-w", "-t", "30", "start"],
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast`` (every session ended, a clean shutdown) or ``immediate`` (the
        server killed, recovery at the next start)."""
        subprocess.run(  # noqa: S603
            [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
             "stop"],
            check=True, capture_output=True,
        )  # fmt: skip

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    """A Redis without persistence on ``port``; ``stop`` kills it (its data is gone) and
    ``start`` brings an empty one back on the same port."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def create(cls) -> Redis:
        server = cls(Path(tempfile.mkdtemp(prefix="kefu-faults-redis-")))
        server.start()
        return server

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary, our own options
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=(self.root / "redis.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: _listening(self.port), START_SECONDS, f"redis on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def kefu_environment(
    *, database_url: str, data_dir: Path, redis_url: str | None, **settings: object
) -> dict[str, str]:
    """The environment of a kefu subprocess: this checkout's code, the private servers, and
    ``settings`` as ``KEFU_<NAME>`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    values: dict[str, object] = {
        "env": "test",
        "secret_key": "kefu-faults-secret-key-0123456789abcdef",
        "database_url": database_url,
        "data_dir": data_dir,
        "log_level": "INFO",
        "outbound_allow_hosts": "127.0.0.1,localhost",
        "outbound_http_hosts": "127.0.0.1,localhost",
        **({"redis_url": redis_url} if redis_url else {}),
        **settings,
    }
    env.update({f"KEFU_{k.upper()}": str(v) for k, v in values.items()})
    return env


@dataclass
class Kefu:
    """One ``kefu serve`` or ``kefu worker`` subprocess, its output in ``log``."""

    args: list[str]
    env: Mapping[str, str]
    log: Path
    port: int = 0
    file_size_limit: int | None = None  # RLIMIT_FSIZE of the process (bytes), if any
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def serve(
        cls, env: Mapping[str, str], log: Path, *, file_size_limit: int | None = None
    ) -> Kefu:
        port = free_port()
        server = cls(["serve", "--no-migrate", "--port", str(port)], env, log, port)
        server.file_size_limit = file_size_limit
        server.start()
        return server

    @classmethod
    def worker(cls, env: Mapping[str, str], log: Path, *args: str) -> Kefu:
        worker = cls(["worker", *args], env, log)
        worker.start()
        return worker

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        command = [sys.executable, "-c", "from kefu.cli import app; app()", *self.args]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, env=dict(self.env), stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=self._limits if self.file_size_limit else None,
        )  # fmt: skip
        if self.port:
            wait_until(self._healthy, START_SECONDS, f"kefu serve on {self.port}: {self.tail()}")

    def _limits(self) -> None:
        """In the child: writing past the limit fails with EFBIG (Python ignores SIGXFSZ)."""
        import resource

        limit = self.file_size_limit or resource.RLIM_INFINITY
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"kefu {self.args[0]} exited: {self.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_exit(self, seconds: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(seconds)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL (quicker than a clean stop, and a test that is done needs none)."""
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait(10)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def serve_and_worker(env: Mapping[str, str], folder: Path, *worker_args: str) -> tuple[Kefu, Kefu]:
    """``kefu serve`` and ``kefu worker`` on the same settings, started side by side."""
    worker = Kefu.worker(env, folder / "worker.log", *worker_args)  # starts while serve does
    return Kefu.serve(env, folder / "serve.log"), worker
