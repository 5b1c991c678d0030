#!/usr/bin/env python3
"""Inbound ingest benchmark: POST /api/v1/inbound over HTTP to one running kefu process.

For each backend (SQLite in a fresh temporary data directory; PostgreSQL in a database of
its own that this script drops and re-creates), it

1. prepares the schema and an integration's token with the ``kefu`` CLI;
2. starts ONE ``kefu serve --no-migrate`` process on a free loopback port;
3. "throughput": posts N distinct inbound messages (default 20,000) from a closed loop of
   C concurrent keep-alive connections and reports messages/s and p50/p90/p99/max latency;
4. "latency at offered load": an open-loop generator sends at a fixed rate (default
   200 msg/s for 15 s) on schedule regardless of answers; latency is measured from the
   *scheduled* send time, so a stalled server cannot hide its queue (no coordinated omission);
5. stops the server and prints a table with the targets, PASS/FAIL, and one line of JSON.

The load generator runs in this process, on the same machine as the server (which on the
reference machine has 2 cores); the CPU time of both is reported for every phase.

    .venv/bin/python benchmarks/ingest.py --quick          # smoke run (2,000 messages)
    .venv/bin/python benchmarks/ingest.py                  # the acceptance run
    .venv/bin/python benchmarks/ingest.py --backends sqlite --concurrency 32
    .venv/bin/python benchmarks/ingest.py --profile /tmp/kefu-prof   # py-spy the server

Exit status: 0 if every target is met, 1 if one is missed, 2 if the run could not be set up.
Only 127.0.0.1 is ever contacted. The PostgreSQL database must not be named ``test``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench"
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TARGET_RATE = 500.0  # messages/s, closed loop
TARGET_P99_MS = 50.0  # at the offered load
REQUEST_TIMEOUT_S = 30.0
FIRST_ERRORS_KEPT = 5


# --- realistic Chinese customer messages --------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建文亮晶燕婷雪琳欣怡子涵浩宇梓轩思雨晨阳佳琪嘉欣"
PRODUCTS = [
    "蓝牙耳机",
    "扫地机器人",
    "空气炸锅",
    "电动牙刷",
    "羽绒服",
    "运动鞋",
    "儿童安全座椅",
    "保温杯",
    "智能手表",
    "破壁机",
    "婴儿奶粉",
    "笔记本电脑",
    "机械键盘",
    "投影仪",
    "床垫",
    "行李箱",
]
DEFECTS = [
    "左耳没有声音",
    "充不进电",
    "外壳有裂痕",
    "开机就报错",
    "拉链坏了",
    "有很大的异味",
    "尺码偏小两号",
    "屏幕有坏点",
    "少了一个配件",
    "用了两天就不转了",
]
COLORS = ["黑色", "白色", "雾霾蓝", "樱花粉", "军绿色", "香槟金"]
CITIES = [
    "北京市朝阳区",
    "上海市浦东新区",
    "广州市天河区",
    "深圳市南山区",
    "杭州市西湖区",
    "成都市武侯区",
    "武汉市洪山区",
]
STREETS = ["建国路", "世纪大道", "天河路", "科技园南路", "文三路", "人民南路", "珞喻路"]
PHONES = ["华为Mate 60", "小米14", "iPhone 15", "OPPO Find X7", "vivo X100", "荣耀Magic6"]
COMPANIES = [
    "杭州云帆科技有限公司",
    "北京星河文化传媒有限公司",
    "深圳前海启明贸易有限公司",
    "上海弘毅咨询有限公司",
]
OPENERS = ["你好，", "您好，", "客服你好，", "在吗？", "", "", "麻烦问一下，", "急！"]
CLOSERS = ["谢谢！", "麻烦尽快处理。", "", "", "等你们回复。", "辛苦了。", "再不处理我就要投诉了。"]
TEMPLATES = [
    "我的订单{order}已经{days}天了还没发货，请帮忙查一下什么时候能发。",
    "快递单号{tracking}显示已签收，但我根本没收到包裹，家里也没人代收，怎么回事？",
    "收到的{product}有质量问题，{defect}，我要申请退货退款。",
    "请问{product}支持七天无理由退货吗？包装已经拆了，但是没有使用过。",
    "我昨天付款了{amount}元，但订单状态还是待支付，银行卡显示扣了两次钱！",
    "发票抬头写错了，应该是{company}，税号我稍后发给你们，能重新开一张吗？",
    "会员积分怎么突然清零了？我之前明明有{points}分，也没有收到任何通知。",
    "能不能改一下收货地址？新地址是{city}{street}{num}号{room}室。",
    "{product}用了不到半年就坏了，{defect}，还在保修期内，怎么申请维修？",
    "我想取消订单{order}，还没发货应该可以直接退款吧？",
    "优惠券用不了，提示不满足使用条件，可是我已经满{amount}元了。",
    "你们的APP一直闪退，手机是{phone}，已经卸载重装过了还是不行。",
    "三天前申请的退款到现在还没到账，订单号{order}，麻烦尽快处理。",
    "收到的颜色和我下单的不一样，我买的是{color}，寄来的是{color2}，要怎么换？",
    "还有人在吗？已经等了{hours}个小时了，一直没人回复。",
    "补充一下：订单{order}里的{product}也有同样的问题，一起处理吧。",
    "好的，我已经按你们说的寄回去了，快递单号{tracking}。",
    "我的联系电话是{mobile}，方便的话直接打给我，白天都在。",
    "图片已经拍好了，怎么发给你们？在这里上传不了。",
    "为什么同样的{product}，直播间比店铺便宜{diff}块？能退差价吗？",
]


def _fill(rng: random.Random, template: str) -> str:
    color, color2 = rng.sample(COLORS, 2)
    return template.format(
        order=f"{rng.randrange(10**17, 10**18)}",
        tracking=f"SF{rng.randrange(10**11, 10**12)}",
        days=rng.randint(3, 15),
        product=rng.choice(PRODUCTS),
        defect=rng.choice(DEFECTS),
        amount=rng.choice([59, 99, 128, 199, 299, 468, 1299, 3999]),
        company=rng.choice(COMPANIES),
        points=rng.randrange(500, 20000),
        city=rng.choice(CITIES),
        street=rng.choice(STREETS),
        num=rng.randint(1, 999),
        room=rng.randint(101, 2808),
        phone=rng.choice(PHONES),
        color=color,
        color2=color2,
        hours=rng.randint(2, 48),
        mobile=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
        diff=rng.randint(10, 200),
    )


def make_text(rng: random.Random) -> str:
    body = _fill(rng, rng.choice(TEMPLATES))
    if rng.random() < 0.25:  # some customers write several sentences, a few over several lines
        body += ("\n" if rng.random() < 0.5 else "") + _fill(rng, rng.choice(TEMPLATES))
    return f"{rng.choice(OPENERS)}{body}{rng.choice(CLOSERS)}"


def make_senders(rng: random.Random, count: int) -> list[dict[str, str]]:
    senders = []
    for i in range(count):
        sender = {
            "external_id": f"bench-c-{i:05d}",
            "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
        }
        if rng.random() < 0.3:
            sender["email"] = f"customer{i}@example.cn"
        if rng.random() < 0.3:
            sender["phone"] = f"+86 1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}"
        senders.append(sender)
    return senders


def make_bodies(
    rng: random.Random, senders: list[dict[str, str]], prefix: str, count: int
) -> list[bytes]:
    """Pre-encoded JSON bodies, so the client spends its CPU on sending, not on building."""
    bodies = []
    for i in range(count):
        payload = {
            "channel": "api",
            "external_id": f"{prefix}-{i:06d}",
            "sender": rng.choice(senders),
            "text": make_text(rng),
        }
        bodies.append(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    return bodies


# --- measurements ---------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Recorder:
    """Latencies of every request, failed ones included at the time they failed (a timed-out
    request counts as at least the timeout), so failures cannot flatter the percentiles."""

    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    succeeded: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    last_done: float = 0.0

    def ok(self, latency: float, status: int) -> None:
        self.latencies.append(latency)
        self.succeeded += 1
        self.statuses[str(status)] += 1
        self.last_done = time.perf_counter()

    def error(self, what: str, detail: str, latency: float) -> None:
        self.latencies.append(latency)
        self.errors += 1
        self.statuses[what] += 1
        self.last_done = time.perf_counter()
        if len(self.first_errors) < FIRST_ERRORS_KEPT:
            self.first_errors.append(f"{what}: {detail[:300]}")

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        ms = lambda s: round(s * 1000, 2)  # noqa: E731
        return {
            "ok": self.succeeded,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "first_errors": self.first_errors,
            "p50_ms": ms(percentile(values, 50)),
            "p90_ms": ms(percentile(values, 90)),
            "p99_ms": ms(percentile(values, 99)),
            "max_ms": ms(values[-1]) if values else math.nan,
            "mean_ms": ms(sum(values) / len(values)) if values else math.nan,
        }


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes | None, started: float, rec: Recorder
) -> None:
    """One POST (a GET if there is no body); latency is measured from ``started`` (the actual
    or the scheduled send time)."""
    try:
        request = session.post(url, data=body) if body is not None else session.get(url)
        async with request as resp:
            data = await resp.read()
            latency = time.perf_counter() - started
            if 200 <= resp.status < 300:
                rec.ok(latency, resp.status)
            else:
                rec.error(str(resp.status), data.decode("utf-8", errors="replace"), latency)
    except asyncio.CancelledError:
        rec.error(
            "cancelled", "no answer before the phase's time limit", time.perf_counter() - started
        )
        raise
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        rec.error(type(e).__name__, repr(e), time.perf_counter() - started)


def _session(token: str, limit: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, keepalive_timeout=60)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )


async def _warm_connections(session: aiohttp.ClientSession, base: str, n: int) -> None:
    """Open ``n`` keep-alive connections before measuring (failures are the phase's business)."""

    async def one() -> None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
            async with session.get(f"{base}/healthz") as resp:
                await resp.read()

    await asyncio.gather(*(one() for _ in range(n)))


async def closed_loop(
    base: str,
    token: str,
    bodies: list[bytes] | list[None],
    concurrency: int,
    time_limit: float,
    path: str = "/api/v1/inbound",
) -> dict[str, Any]:
    """C workers, each sending its next message as soon as the previous one is answered."""
    rec = Recorder()
    url = f"{base}{path}"
    async with _session(token, concurrency) as session:
        await _warm_connections(session, base, concurrency)
        next_index = 0
        started = time.perf_counter()
        deadline = started + time_limit

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(bodies) and time.perf_counter() < deadline:
                body = bodies[next_index]
                next_index += 1
                await _post(session, url, body, time.perf_counter(), rec)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = (rec.last_done or time.perf_counter()) - started
    result = rec.summary()
    result.update(
        sent=next_index,
        planned=len(bodies),
        timed_out=next_index < len(bodies),
        elapsed_s=round(elapsed, 3),
        msgs_per_s=round(result["ok"] / elapsed, 1) if elapsed > 0 else 0.0,
        concurrency=concurrency,
    )
    return result


async def open_loop(
    base: str, token: str, bodies: list[bytes], rate: float, grace: float
) -> dict[str, Any]:
    """Send message i at start + i/rate whatever happened to the earlier ones."""
    rec = Recorder()
    url = f"{base}/api/v1/inbound"
    tasks: list[asyncio.Task[None]] = []
    max_lag = 0.0
    async with _session(token, 512) as session:
        await _warm_connections(session, base, 8)
        start = time.perf_counter() + 0.05
        deadline = start + len(bodies) / rate + grace
        for i, body in enumerate(bodies):
            scheduled = start + i / rate
            now = time.perf_counter()
            if now > deadline:
                break
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            max_lag = max(max_lag, time.perf_counter() - scheduled)
            tasks.append(asyncio.create_task(_post(session, url, body, scheduled, rec)))
        last_send = time.perf_counter()
        sent = len(tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.perf_counter()))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    result = rec.summary()
    send_window = last_send - start
    result.update(
        sent=sent,
        planned=len(bodies),
        timed_out=sent < len(bodies) or rec.statuses.get("cancelled", 0) > 0,
        offered_per_s=rate,
        achieved_send_per_s=round((sent - 1) / send_window, 1)
        if sent > 1 and send_window > 0
        else 0.0,
        max_send_lag_ms=round(max_lag * 1000, 2),
        duration_s=round(len(bodies) / rate, 1),
    )
    return result


# --- processes -------------------------------------------------------------------------------


def _kefu_bin() -> str:
    for candidate in (Path(sys.executable).parent / "kefu", REPO / ".venv" / "bin" / "kefu"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("kefu")
    if not found:
        raise SystemExit("cannot find the kefu command (run `make install` first)")
    return found


def _die_with_parent() -> None:
    """In the child: get SIGTERM if this script dies without its finally blocks (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (or one of its threads), from /proc (Linux); NaN elsewhere."""
    path = Path(f"/proc/{pid}/stat") if tid is None else Path(f"/proc/{pid}/task/{tid}/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot, from /proc/stat (Linux); NaN elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError):
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used during a phase by the server, this client, the benchmark's own PostgreSQL
    backends, and everything else on the machine (other people's work skews the figures)."""

    def __init__(self, server_pid: int, pg: PgBackends | None) -> None:
        self.server_pid, self.pg = server_pid, pg

    def __enter__(self) -> CpuMeter:
        self.t0 = time.perf_counter()
        self.machine0 = machine_busy_seconds()
        self.server0 = cpu_seconds(self.server_pid)
        self.loop0 = cpu_seconds(
            self.server_pid, self.server_pid
        )  # the main thread runs the event loop
        self.client0 = self_cpu_seconds()
        self.pg0 = self.pg.cpu() if self.pg else {}
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.machine = machine_busy_seconds() - self.machine0
        self.server = cpu_seconds(self.server_pid) - self.server0
        self.loop = cpu_seconds(self.server_pid, self.server_pid) - self.loop0
        self.client = self_cpu_seconds() - self.client0
        pg1 = self.pg.cpu() if self.pg else {}
        self.postgres = sum(v - self.pg0.get(pid, 0.0) for pid, v in pg1.items())

    def report(self) -> dict[str, Any]:
        cpus = os.cpu_count() or 1
        other = self.machine - self.server - self.client - self.postgres
        return {
            "server_cpu_s": round(self.server, 2),
            "server_loop_thread_cpu_s": round(self.loop, 2),
            "client_cpu_s": round(self.client, 2),
            "postgres_cpu_s": round(self.postgres, 2),
            "other_cpu_s": round(max(0.0, other), 2),
            "machine_busy_pct": round(100 * self.machine / (self.wall * cpus), 1)
            if self.wall > 0
            else math.nan,
            "other_load_pct": round(100 * max(0.0, other) / (self.wall * cpus), 1)
            if self.wall > 0
            else math.nan,
        }


class PgBackends:
    """CPU seconds of the PostgreSQL backends serving the benchmark database."""

    def __init__(self, connect: dict[str, Any], database: str) -> None:
        self.connect, self.database = connect, database

    def cpu(self) -> dict[int, float]:
        import psycopg

        try:
            with psycopg.connect(
                **self.connect, dbname="postgres", autocommit=True, connect_timeout=5
            ) as conn:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
        except psycopg.Error:
            return {}
        return {pid: cpu_seconds(pid) for (pid,) in rows if not math.isnan(cpu_seconds(pid))}


@dataclass
class Backend:
    name: str
    env: dict[str, str]
    workdir: Path
    database_url: str
    pg: PgBackends | None = None


def _base_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        KEFU_DATA_DIR=str(workdir / "data"), KEFU_LOG_LEVEL="WARNING", KEFU_ENV="development"
    )
    return env


def sqlite_backend(root: Path) -> Backend:
    workdir = root / "sqlite"
    workdir.mkdir()
    env = _base_env(workdir)
    url = f"sqlite:///{(workdir / 'data' / 'kefu.db').resolve()}"
    return Backend("sqlite", env, workdir, url)


def postgres_backend(root: Path, url: str) -> Backend:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"--pg-url must be a postgresql URL, not {url!r}")
    if (parsed.host or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(f"refusing a PostgreSQL server that is not on loopback: {parsed.host}")
    if not parsed.database or parsed.database in PROTECTED_DATABASES:
        raise SystemExit(
            f"refusing to (re)create the database {parsed.database!r}; use one of its own, e.g. kefu_bench"
        )
    import psycopg
    from psycopg import sql

    connect: dict[str, Any] = {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432}
    connect["user"] = parsed.username or "postgres"
    if parsed.password:
        connect["password"] = parsed.password
    with psycopg.connect(
        **connect, dbname="postgres", autocommit=True, connect_timeout=10
    ) as admin:
        name = sql.Identifier(parsed.database)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    workdir = root / "postgres"
    workdir.mkdir()
    env = _base_env(workdir)
    env["KEFU_DATABASE_URL"] = url
    return Backend("postgres", env, workdir, url, PgBackends(connect, parsed.database))


def run_cli(backend: Backend, *args: str) -> str:
    done = subprocess.run(  # noqa: PLW1510 - checked below, with the output shown
        [_kefu_bin(), *args],
        env=backend.env,
        cwd=backend.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"`kefu {' '.join(args[:2])}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def prepare(backend: Backend) -> str:
    """Schema and an integration (the one kind of caller intake takes); returns its token."""
    run_cli(backend, "db", "upgrade")
    token = run_cli(backend, "integration", "create", "压测集成", "--channel", "api").strip()
    if not token or "\n" in token:
        raise SystemExit(f"unexpected output of `kefu integration create`: {token!r}")
    return token


@contextlib.contextmanager
def kefu_server(
    backend: Backend, startup_timeout: float = 60.0
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """One `kefu serve` process on a free loopback port; always stopped on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = backend.workdir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own command
            [_kefu_bin(), "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)],
            env=backend.env,
            cwd=backend.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only this script, which then stops the server
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - sets PR_SET_PDEATHSIG only
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(
                    f"kefu serve exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:  # noqa: S310 - loopback
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"kefu serve did not answer /healthz within {startup_timeout:.0f} s"
                )
            time.sleep(0.1)
        yield proc, base
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=grace)


def database_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 - fixed names
                for table in (
                    "messages",
                    "tickets",
                    "customers",
                    "inbound_payloads",
                    "audit_events",
                )
            }
    finally:
        engine.dispose()


# --- profiling (optional) -----------------------------------------------------------------------

# Where a sampled frame's file lives -> the layer it is counted in.
LAYERS = (
    ("kefu/", "kefu (app code)"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM"),
    ("sqlalchemy/", "SQLAlchemy Core/engine"),
    ("sqlite3/", "DB driver"),
    ("psycopg", "DB driver"),
    ("fastapi/", "FastAPI"),
    ("starlette/", "Starlette"),
    ("pydantic", "pydantic"),
    ("anyio/", "anyio (thread pool)"),
    ("uvicorn/", "uvicorn (HTTP)"),
    ("httptools", "uvicorn (HTTP)"),
    ("asyncio/", "asyncio event loop"),
    ("uvloop", "asyncio event loop"),
    ("threading.py", "threading/queue"),
    ("queue.py", "threading/queue"),
)


# Frames every sample of a thread has (process start-up, thread bootstrap): left out of "inclusive".
ROOT_FRAMES = (
    "typer/", "click/", "(kefu)", "kefu/cli.py", "uvicorn/main.py", "uvicorn/server.py",
    "uvicorn/_compat.py", "asyncio/runners.py", "(threading.py)",
)  # fmt: skip


def _py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """Sample every thread of the server with py-spy while the block runs.

    Not ``--gil``: on this Python (3.11) py-spy credits the GIL to the event-loop thread far
    more often than /proc's per-thread CPU times allow, so that view misleads. The summary
    instead leaves out samples of threads that wait (see IDLE_LEAVES)."""
    if out is None:
        yield
        return
    exe = _py_spy()
    if exe is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(  # noqa: S603
        [exe, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        if spy.poll() is None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()


def _frame_name(frame: str) -> str:
    """'execute (sqlalchemy/engine/base.py:1234)' -> 'execute (sqlalchemy/engine/base.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rpartition(":")[0] or where
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3":
                path = path.split("/", 1)[-1]
            break
    return f"{name} ({path})" if path else name


# Leaf frames of a thread that waits: a pool thread for work, the event loop for sockets.
IDLE_LEAVES = (
    "Condition.wait (threading.py)",
    "Event.wait (threading.py)",
    "Queue.get (queue.py)",
    "Runner.run (asyncio/runners.py)",
)
# Leaf frames that are a call into the database driver's C code: real work, a round trip
# to PostgreSQL, or (SQLite) sleeping in the busy handler until the write lock is free.
DRIVER_LEAVES = (
    "DefaultDialect.do_execute ",
    "DefaultDialect.do_commit ",
    "DefaultDialect.do_rollback ",
)


def _layer(frame: str) -> str:
    if frame.startswith(DRIVER_LEAVES):
        return "in a DB driver call (work, round trip, or waiting for a lock)"
    for marker, layer in LAYERS:
        if marker in frame:
            return layer
    return "other"


def profile_summary(path: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive shares of the non-idle thread samples, from py-spy's raw output."""
    self_counts: collections.Counter[str] = collections.Counter()
    incl_counts: collections.Counter[str] = collections.Counter()
    layer_counts: collections.Counter[str] = collections.Counter()
    thread_counts: collections.Counter[str] = collections.Counter()
    total = idle = 0
    if not path.exists():
        return {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame_name(f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        count = int(count_text)
        if frames[-1] in IDLE_LEAVES:
            idle += count
            continue
        total += count
        in_worker = any(f.startswith("WorkerThread.run ") for f in frames)
        thread_counts["worker threads" if in_worker else "event-loop thread"] += count
        self_counts[frames[-1]] += count
        layer_counts[_layer(frames[-1])] += count
        for name in set(frames):
            if not any(marker in name for marker in ROOT_FRAMES):
                incl_counts[name] += count
    if not total:
        return {}

    def share(counter: collections.Counter[str], n: int) -> list[tuple[str, float]]:
        return [(name, round(100 * c / total, 1)) for name, c in counter.most_common(n)]

    return {
        "samples": total,
        "idle_samples": idle,
        "by_thread": share(thread_counts, 2),
        "self_by_layer": share(layer_counts, len(layer_counts)),
        "self": share(self_counts, top),
        "inclusive": share(incl_counts, top + 15),
    }


# --- driver ------------------------------------------------------------------------------------


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run_backend(
    name: str, root: Path, args: argparse.Namespace, bodies: dict[str, list[bytes]]
) -> dict[str, Any]:
    print(f"\n== {name}: preparing", flush=True)
    backend = sqlite_backend(root) if name == "sqlite" else postgres_backend(root, args.pg_url)
    token = prepare(backend)
    result: dict[str, Any] = {
        "database": backend.database_url if name == "postgres" else "sqlite (temp data dir, WAL)"
    }
    result["code"] = code_version()  # the tree can change between backends while others edit it
    with kefu_server(backend) as (proc, base), _runner() as runner:
        print(f"   kefu serve pid {proc.pid} at {base} (code: {result['code']})", flush=True)
        if bodies["warmup"]:
            print(f"   warm-up: {len(bodies['warmup'])} messages (not counted)", flush=True)
            warm = runner.run(
                closed_loop(base, token, bodies["warmup"], args.concurrency, args.time_limit)
            )
            for e in warm["first_errors"]:
                print(f"   !! warm-up: {e}", flush=True)
            result["warmup"] = {"ok": warm["ok"], "errors": warm["errors"]}

        if args.baseline:
            print(
                f"   baseline: GET /healthz x {args.baseline}, {args.concurrency} connections "
                "(the HTTP stack alone, no database)",
                flush=True,
            )
            with CpuMeter(proc.pid, None) as meter:
                base_line = runner.run(
                    closed_loop(
                        base,
                        token,
                        [None] * args.baseline,
                        args.concurrency,
                        args.time_limit,
                        "/healthz",
                    )
                )
            base_line.update(meter.report())
            base_line["server_cpu_ms_per_msg"] = round(
                1000 * base_line["server_cpu_s"] / max(1, base_line["ok"]), 2
            )
            _print_phase(base_line)
            result["baseline_healthz"] = base_line

        print(
            f"   throughput: {len(bodies['throughput'])} messages, {args.concurrency} connections (closed loop)",
            flush=True,
        )
        prof_out = args.profile / f"{name}-throughput.txt" if args.profile else None
        with profiled(proc.pid, prof_out), CpuMeter(proc.pid, backend.pg) as meter:
            tp = runner.run(
                closed_loop(base, token, bodies["throughput"], args.concurrency, args.time_limit)
            )
        tp.update(meter.report())
        tp["server_cpu_ms_per_msg"] = round(1000 * tp["server_cpu_s"] / max(1, tp["ok"]), 2)
        _print_phase(tp)
        if prof_out:
            tp["profile"] = str(prof_out)
            tp["profile_summary"] = profile_summary(prof_out)
            _print_profile(tp["profile_summary"])
        result["throughput"] = tp

        print(
            f"   latency: {args.rate:g} msg/s offered for {args.duration:g} s "
            f"({len(bodies['latency'])} messages, open loop)",
            flush=True,
        )
        time.sleep(1.0)
        with CpuMeter(proc.pid, backend.pg) as meter:
            lat = runner.run(open_loop(base, token, bodies["latency"], args.rate, args.grace))
        lat.update(meter.report())
        _print_phase(lat)
        result["latency"] = lat
    counts = database_counts(backend.database_url)
    counts["client_saw_ok"] = sum(
        result[p]["ok"] for p in ("warmup", "throughput", "latency") if p in result
    )
    counts["joined_existing_ticket"] = counts["messages"] - counts["tickets"]
    result["db"] = counts
    print(
        f"   database: {counts['messages']} messages stored (the client saw {counts['client_saw_ok']} succeed) "
        f"in {counts['tickets']} tickets from {counts['customers']} customers; "
        f"{counts['joined_existing_ticket']} joined an existing ticket; {counts['audit_events']} audit events",
        flush=True,
    )
    return result


def _print_phase(r: dict[str, Any]) -> None:
    if "msgs_per_s" in r:
        rate = f"{r['msgs_per_s']} msg/s in {r['elapsed_s']} s"
    else:
        rate = f"sent at {r['achieved_send_per_s']} msg/s (generator lag max {r['max_send_lag_ms']} ms)"
    print(
        f"   -> {r['ok']} ok, {r['errors']} errors; {rate}; p50 {r['p50_ms']} p90 {r['p90_ms']} "
        f"p99 {r['p99_ms']} max {r['max_ms']} ms",
        flush=True,
    )
    pg = f", postgres {r['postgres_cpu_s']}" if r.get("postgres_cpu_s") else ""
    per_msg = (
        f" ({r['server_cpu_ms_per_msg']} ms per message)" if "server_cpu_ms_per_msg" in r else ""
    )
    print(
        f"      CPU s: server {r['server_cpu_s']}{per_msg} (event-loop thread {r['server_loop_thread_cpu_s']}, "
        f"worker threads {round(r['server_cpu_s'] - r['server_loop_thread_cpu_s'], 2)}){pg}, client {r['client_cpu_s']}, "
        f"other processes {r['other_cpu_s']}; machine {r['machine_busy_pct']}% busy",
        flush=True,
    )
    if r["other_load_pct"] > 10:
        print(
            f"   !! other processes used {r['other_load_pct']}% of this machine's CPU during the phase: "
            "the figures are pessimistic",
            flush=True,
        )
    if r["timed_out"]:
        print(f"   !! phase hit its time limit: {r['sent']} of {r['planned']} sent", flush=True)
    for e in r["first_errors"]:
        print(f"   !! {e}", flush=True)


def _print_profile(summary: dict[str, Any]) -> None:
    if not summary:
        print("   (no profile samples)")
        return
    threads = ", ".join(f"{name} {pct}%" for name, pct in summary["by_thread"])
    print(
        f"   server profile (wall time of busy threads): {summary['samples']} samples ({threads}; "
        f"{summary['idle_samples']} idle samples left out)"
    )
    print("   self time by layer:")
    for name, pct in summary["self_by_layer"]:
        if pct >= 0.1:
            print(f"     {pct:5.1f}%  {name}")
    print("   top self time:")
    for name, pct in summary["self"]:
        print(f"     {pct:5.1f}%  {name}")
    print("   top inclusive time:")
    for name, pct in summary["inclusive"]:
        print(f"     {pct:5.1f}%  {name}")


def verdicts(r: dict[str, Any]) -> tuple[bool, bool]:
    tp, lat = r["throughput"], r["latency"]
    tp_ok = tp["msgs_per_s"] >= TARGET_RATE and tp["errors"] == 0 and not tp["timed_out"]
    lat_ok = lat["p99_ms"] < TARGET_P99_MS and lat["errors"] == 0 and not lat["timed_out"]
    return tp_ok, lat_ok


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> bool:
    cpus = os.cpu_count()
    print(
        f"\n== results (latencies in ms; the client shares this machine's {cpus} CPUs with the server)"
    )
    header = (
        f"{'backend':<9} {'phase':<16} {'ok':>6} {'err':>4} {'msg/s':>7} {'p50':>7} {'p90':>7} "
        f"{'p99':>7} {'max':>8}  {'target':<22} result"
    )
    print(header)
    print("-" * len(header))
    all_ok = True
    rate_target = f">= {TARGET_RATE:g} msg/s"
    latency_target = f"p99 < {TARGET_P99_MS:g} ms @ {args.rate:g}/s"
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<9} {'(not run)':<16} {r['error']}")
            all_ok = False
            continue
        tp_ok, lat_ok = verdicts(r)
        all_ok = all_ok and tp_ok and lat_ok
        rows: list[tuple[str, str, dict[str, Any], float, str, str]] = []
        if "baseline_healthz" in r:
            b = r["baseline_healthz"]
            rows.append((name, "GET /healthz", b, b["msgs_per_s"], "(HTTP stack, no DB)", "info"))
        tp, lat = r["throughput"], r["latency"]
        tp_verdict, lat_verdict = ("PASS" if tp_ok else "FAIL"), ("PASS" if lat_ok else "FAIL")
        rows.append(
            ("" if rows else name, "throughput", tp, tp["msgs_per_s"], rate_target, tp_verdict)
        )
        rate = lat["achieved_send_per_s"]
        rows.append(("", f"open @ {args.rate:g}/s", lat, rate, latency_target, lat_verdict))
        for backend, phase, f, rate, target, ok in rows:
            print(
                f"{backend:<9} {phase:<16} {f['ok']:>6} {f['errors']:>4} {rate:>7.1f} {f['p50_ms']:>7.1f} "
                f"{f['p90_ms']:>7.1f} {f['p99_ms']:>7.1f} {f['max_ms']:>8.1f}  {target:<22} {ok}"
            )
    print("(msg/s: answered per second in the closed loop; sent per second in the open loop)")
    if args.quick:
        print("(quick run: smaller sample, figures are indicative only)")
    return all_ok


def code_version() -> str:
    """The commit under test, and whether src/ has uncommitted changes (figures move with them)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return f"unknown commit; src {_src_digest()}"
    changes = f" + uncommitted changes to {len(dirty)} file(s) in src/" if dirty else ""
    return f"{commit}{changes}; src {_src_digest()}"


def _src_digest() -> str:
    """A digest of every source file under src/, to tell apart runs of uncommitted trees."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((REPO / "src").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--backends",
        default="sqlite,postgres",
        help="comma-separated: sqlite, postgres (default both)",
    )
    p.add_argument(
        "--messages",
        type=int,
        help="messages in the throughput phase (default 20000; --quick 2000)",
    )
    p.add_argument(
        "--concurrency", type=int, default=16, help="connections in the closed loop (default 16)"
    )
    p.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="offered load of the latency phase, msg/s (default 200)",
    )
    p.add_argument(
        "--duration", type=float, help="seconds of the latency phase (default 15; --quick 5)"
    )
    p.add_argument(
        "--warmup",
        type=int,
        help="messages sent before measuring, not counted (default 500; --quick 100)",
    )
    p.add_argument(
        "--senders", type=int, default=2000, help="distinct customers sending (default 2000)"
    )
    p.add_argument(
        "--baseline",
        type=int,
        help="GET /healthz requests first: the HTTP stack's own ceiling (default 2000; --quick 500; 0 skips)",
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 messages, 5 s of offered load"
    )
    p.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help=f"PostgreSQL database to drop and re-create (default {DEFAULT_PG_URL})",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=1800.0,
        help="upper bound of a closed-loop phase, s (default 1800)",
    )
    p.add_argument(
        "--grace",
        type=float,
        default=30.0,
        help="wait for late answers after the open loop's last send, s",
    )
    p.add_argument(
        "--profile",
        type=Path,
        help="record the server with py-spy during the throughput phase into this directory",
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary data directories and server logs"
    )
    p.add_argument("--seed", type=int, default=20240601, help="seed of the generated messages")
    args = p.parse_args(argv)
    args.messages = args.messages if args.messages is not None else (2000 if args.quick else 20000)
    args.duration = args.duration if args.duration is not None else (5.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (100 if args.quick else 500)
    args.baseline = args.baseline if args.baseline is not None else (500 if args.quick else 2000)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown or not args.backends:
        p.error(f"unknown backends: {', '.join(sorted(unknown)) or '(none)'}")
    for name in ("messages", "concurrency", "senders"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or args.baseline < 0:
        p.error("--rate and --duration must be positive, --warmup and --baseline not negative")
    if args.messages > 1_000_000 or args.rate * args.duration > 1_000_000:
        p.error("at most 1,000,000 messages per phase")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def on_sigterm(signum: int, _frame: Any) -> None:
        print("\nterminated; stopping the server", file=sys.stderr, flush=True)
        raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the server

    signal.signal(signal.SIGTERM, on_sigterm)
    # Ctrl-C must stop the run even if this process was started with SIGINT ignored (`cmd &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rng = random.Random(args.seed)
    senders = make_senders(rng, args.senders)
    run_id = f"{int(time.time()):x}"
    bodies = {
        "warmup": make_bodies(rng, senders, f"bench-{run_id}-warm", args.warmup),
        "throughput": make_bodies(rng, senders, f"bench-{run_id}-tp", args.messages),
        "latency": make_bodies(
            rng, senders, f"bench-{run_id}-lat", int(round(args.rate * args.duration))
        ),
    }
    sizes = [len(b) for b in bodies["throughput"]]
    version = code_version()
    print(
        f"kefu ingest benchmark: {args.messages} messages (+{args.warmup} warm-up) at {args.concurrency} connections, "
        f"then {args.rate:g} msg/s for {args.duration:g} s; {args.senders} senders; bodies {min(sizes)}-{max(sizes)} bytes\n"
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}\n"
        f"code: {version}\n"
        "note: the load generator runs in this process ON THE SAME MACHINE as the one kefu server process, "
        "so they compete for the CPUs; client CPU time is reported per phase."
    )
    root = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in args.backends:
            try:
                results[name] = run_backend(name, root, args, bodies)
            except SystemExit as e:
                if isinstance(e.code, int):  # SIGTERM: stop everything
                    raise
                print(f"   !! {name}: {e.code}", flush=True)
                results[name] = {"error": str(e.code).splitlines()[0]}
            except Exception as e:  # a backend that cannot be set up does not stop the other
                print(f"   !! {name}: {e!r}", flush=True)
                results[name] = {"error": repr(e)}
    except KeyboardInterrupt:
        print("\ninterrupted; the server has been stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept data and server logs in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    all_ok = print_table(results, args)
    summary = {
        "benchmark": "ingest",
        "quick": args.quick,
        "code": version,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "client_shares_machine": True,
        },
        "config": {
            "messages": args.messages,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "rate": args.rate,
            "duration_s": args.duration,
            "senders": args.senders,
            "baseline": args.baseline,
        },
        "targets": {"throughput_msgs_per_s": TARGET_RATE, "p99_ms_at_offered_load": TARGET_P99_MS},
        "results": results,
        "pass": all_ok,
    }
    for r in results.values():
        for phase in ("throughput", "latency"):
            if phase in r:
                r[phase]["pass"] = verdicts(r)[0 if phase == "throughput" else 1]
    print(json.dumps(summary, ensure_ascii=False, sort_keys=False))
    if any("error" in r for r in results.values()):
        return 2
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
