"""Benchmark: tick fan-out through daphne + channels-redis beside a bare `websockets` server.

Run: `.venv/bin/python -m bench.tick_fanout [--clients 1,100,1000,5000] [--ticks 20]`
(needs PostgreSQL and Redis on 127.0.0.1; about 3-4 minutes at the default sizes).

What it starts (all on 127.0.0.1, all stopped on exit):
  * a throwaway PostgreSQL database `pt_bench_fanout` (created if missing, migrated, seeded with
    the market universe and its quotes only: the candle history of `manage.py seed` is not read),
  * daphne serving config.asgi:application on a free port with the channels-redis layer on
    Redis DB 14 under a unique CHANNEL_PREFIX (its keys are deleted at the end),
  * the publisher (bench.tick_fanout_publisher): Django set up with the same environment, so the
    layer config is daphne's; it publishes through the production path,
    config.realtime.publish_frame_now(market.realtime.tick_group("BTC-USD"), frame),
  * the bare baseline (bench.tick_fanout_bare): a `websockets` server that broadcasts the same
    frames with websockets.broadcast,
  * client processes (bench.tick_fanout_clients, --client-procs of them, 2 by default), each
    holding its share of the N sockets on one asyncio loop.

Method, for each N in --clients and each server in turn (channels, then bare), with the same
client processes, frame and schedule:
  1. connect N sockets to /ws/market/BTC-USD/ (one symbol: each socket gets exactly one frame
     per tick, the coalesced frame production would send); a socket counts once its first frame
     (daphne's snapshot, sent after the group_add; the bare server's hello) arrived. For daphne
     the group's size in Redis is checked against N before publishing.
  2. warm-up: 2 ticks, not counted.
  3. paced phase: --ticks frames, one every --interval seconds. Every frame is the real tick
     frame plus {"bench": {"run", "seq", "sent_ns"}}, sent_ns = time.time_ns() taken just before
     the publisher encodes and sends it. Clients take time.time_ns() on receipt, before parsing:
     latency p50/p99 are over every delivery of this phase (publish-to-receipt, so they include
     the Redis round trips, daphne's fan-out and the client's own event-loop delay).
  4. burst phase: --burst frames published back to back (throughput). deliveries/s = unique
     frames received / (last receipt - first publish), i.e. including the drain after the last
     publish.
  5. lost = expected (connected sockets x frames) - unique frames received, after waiting until
     all arrived, or nothing arrived for --quiet seconds (10, longer than the channel expiry),
     or --deadline (60 s) passed since the publisher finished. Silent drops (full channels,
     expired messages) show here, and so do frames later than that wait: for a live tick they
     are as good as lost. Frames of an earlier phase arriving late are counted as "stale",
     duplicates as "dup", sockets the server closed as "disc".
The table's deliveries/s come from the burst phase, p50/p99 from the paced phase; the detail
table shows the rest. Goal (issue 3, section 7): at 1,000 clients, channels deliveries/s >=
0.25 x bare and channels p99 < 250 ms. The figures are those of this machine at this moment:
client processes, daphne, Redis and the publisher share its cores, so both servers are measured
with the same clients under the same load, and only the ratio travels well.

Channel layer sizing for the run (--capacity, --expiry): channels-redis 4 keeps ONE Redis
sorted set per daphne process (its process-local channels share a key) and a group send adds
one message per process, not per socket. `capacity` bounds that shared key (a send to a full
key is dropped silently, logged at INFO) and each socket's in-process buffer (a full buffer
drops its oldest message); `expiry` drops messages that waited longer in Redis. The run has at
most burst + warm-up (22) messages in flight per process, so capacity 1000 / expiry 10 s (the
production defaults of config/settings.py) never drop for lack of room: the losses it shows
are a server falling more than the wait behind.

Findings this benchmark led to: channels-redis's receive() costs O(N^2) per message in the
sockets of one daphne process (every consumer waits on one asyncio.Lock whose acquire() scans
all waiters; not fixed yet); redis-py 8's 5 s default socket timeout breaks the layer's 5 s
BZPOPMIN (config/settings.py sets 15 s); Channels 4.2+ hops to the sync thread before every
handler (accounts/consumers.py skips that hop when relaying frames). Profile daphne with
--profile-daphne PATH.
"""

import argparse
import json
import os
import queue
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.common import free_port, stop_process
from bench.tick_fanout_common import WS_PATH

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_FANOUT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pt_bench_fanout"
)
REDIS_URL = os.environ.get("BENCH_FANOUT_REDIS_URL", "redis://127.0.0.1:6379/14")
DEFAULT_CLIENTS = "1,100,1000,5000"
GOAL_CLIENTS, GOAL_RATIO, GOAL_P99_MS = 1000, 0.25, 250.0
MAX_CLIENTS = 10_000
WARMUP_TICKS = 2


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[tick_fanout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Helper:
    """A helper process speaking JSON lines (see bench.tick_fanout_common)."""

    def __init__(self, name: str, module: str, args: list[str], env: dict, logdir: Path):
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, **command) -> None:
        try:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise BenchError(f"{self.name} is gone ({exc}); see {self.log_path}") from exc

    def receive(self, timeout: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise BenchError(f"{self.name}: no answer within {timeout:.0f} s") from None
        if line is None:
            raise BenchError(f"{self.name} exited ({self.proc.poll()}); see {self.log_path}")
        return json.loads(line)

    def call(self, timeout: float, **command) -> dict:
        self.send(**command)
        return self.receive(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
                self.proc.wait(timeout=20)
            except (BenchError, subprocess.TimeoutExpired):
                pass
        stop_process(self.proc)
        self.log.close()


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"{what} did not listen on {port} within {timeout:.0f} s")


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        log(f"open-file limit is {soft} (< {needed}): the largest sizes may fail to connect")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def delete_layer_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def percentile(ordered: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


class Stack:
    def __init__(self, args, logdir: Path):
        self.args = args
        self.logdir = logdir
        self.prefix = f"pt-bench-fanout-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CHANNEL_PREFIX": self.prefix,
            "CHANNEL_CAPACITY": str(args.capacity),
            "CHANNEL_EXPIRY": str(args.expiry),
            "CACHE_URL": "locmemcache://",
            "CELERY_BROKER_URL": "memory://",
            "JOBS_RUNNER": "celery",
            "DEBUG": "false",
            "SECRET_KEY": "bench-tick-fanout-" + uuid.uuid4().hex,
            "STATIC_MANIFEST": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.helpers: list[Helper] = []
        self.daphne: subprocess.Popen | None = None
        self.daphne_log = None
        self.daphne_port = self.bare_port = 0
        self.publisher = self.bare = None
        self.clients: list[Helper] = []
        self.frame: dict = {}

    def start(self) -> None:
        ensure_database(DATABASE_URL)
        log(f"migrating {DATABASE_URL.rsplit('/', 1)[1]}")
        with open(self.logdir / "migrate.log", "w") as out:
            done = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=300,
                check=False,
            )
        if done.returncode:
            raise BenchError(f"migrate failed; see {self.logdir / 'migrate.log'}")

        self.publisher = self._helper("publisher", "bench.tick_fanout_publisher", [])
        ready = self.publisher.receive(timeout=120)
        self.frame = ready["frame"]
        log(f"publisher ready; layer {ready['layer']}")

        self.daphne_port = free_port()
        self.daphne_log = open(self.logdir / "daphne.log", "w")  # noqa: SIM115
        profile = ["-m", "cProfile", "-o", str(self.args.profile_daphne)]
        self.daphne = subprocess.Popen(
            [sys.executable, *(profile if self.args.profile_daphne else []), "-m", "daphne",
             "-b", "127.0.0.1", "-p", str(self.daphne_port), "config.asgi:application"],
            cwd=ROOT, env=self.env, stdout=self.daphne_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port(self.daphne_port, self.daphne, 60, "daphne")

        self.bare_port = free_port()
        self.bare = self._helper("bare", "bench.tick_fanout_bare", [str(self.bare_port)])
        self.bare.receive(timeout=30)

        for index in range(self.args.client_procs):
            client = self._helper(f"clients-{index}", "bench.tick_fanout_clients", [])
            client.receive(timeout=30)
            self.clients.append(client)
        log(f"daphne on :{self.daphne_port}, bare on :{self.bare_port}, prefix {self.prefix}")

    def _helper(self, name: str, module: str, args: list[str]) -> Helper:
        helper = Helper(name, module, args, self.env, self.logdir)
        self.helpers.append(helper)
        return helper

    def stop(self) -> None:
        for helper in reversed(self.helpers):
            try:
                helper.stop()
            except Exception as exc:
                log(f"stopping {helper.name}: {exc}")
        if self.daphne is not None:
            stop_process(self.daphne)
            self.daphne_log.close()
        try:
            delete_layer_keys(self.prefix)
        except Exception as exc:
            log(f"could not delete the layer keys: {exc}")

    # --- one size against one server ----------------------------------------------------------

    def all_clients(self, timeout: float, commands: list[dict]) -> list[dict]:
        for client, command in zip(self.clients, commands, strict=True):
            client.send(**command)
        return [client.receive(timeout) for client in self.clients]

    def measure(self, server: str, n: int) -> dict:
        args = self.args
        port = self.daphne_port if server == "channels" else self.bare_port
        url = f"ws://127.0.0.1:{port}{WS_PATH}"
        split = shares(n, len(self.clients))
        began = time.monotonic()
        results = self.all_clients(
            timeout=120 + n * 0.1,
            commands=[
                {"cmd": "connect", "url": url, "n": k, "concurrency": args.connect_concurrency,
                 "timeout": 20}
                for k in split
            ],
        )  # fmt: skip
        connected = [r["connected"] for r in results]
        retried = sum(r["retried"] for r in results)
        errors = [e for r in results for e in r["errors"]]
        log(
            f"{server}: {sum(connected)}/{n} connected in {time.monotonic() - began:.1f} s"
            + (f", {retried} handshakes retried; first errors: {errors[:2]}" if errors else "")
        )
        try:
            members = self._members(server, sum(connected))
            phases = {}
            self._phase(server, f"{server}-{n}-warm", WARMUP_TICKS, 0.2, connected)
            phases["paced"] = self._phase(
                server, f"{server}-{n}-paced", args.ticks, args.interval, connected
            )
            phases["burst"] = self._phase(server, f"{server}-{n}-burst", args.burst, 0.0, connected)
        finally:
            self.all_clients(timeout=120, commands=[{"cmd": "close"}] * len(self.clients))
        return {"connected": sum(connected), "retried": retried, "members": members, **phases}

    def _members(self, server: str, expected: int) -> int:
        """Sockets the server will send to: the group's size in Redis for daphne (waiting a few
        seconds for group_add/group_discard of the previous size to settle)."""
        helper = self.publisher if server == "channels" else self.bare
        command = "group_size" if server == "channels" else "count"
        deadline = time.monotonic() + 15
        size = helper.call(timeout=30, cmd=command)["size"]
        while size != expected and time.monotonic() < deadline:
            time.sleep(0.25)
            size = helper.call(timeout=30, cmd=command)["size"]
        if size != expected:
            log(f"{server}: {size} members for {expected} connected sockets")
        return size

    def _phase(self, server: str, run: str, ticks: int, interval: float, connected) -> dict:
        args = self.args
        self.all_clients(timeout=30, commands=[{"cmd": "arm", "run": run}] * len(self.clients))
        publish_timeout = 60 + ticks * interval * 2
        if server == "channels":
            sent = self.publisher.call(
                publish_timeout, cmd="run", run=run, ticks=ticks, interval=interval
            )
        else:
            sent = self.bare.call(
                publish_timeout, cmd="run", run=run, ticks=ticks, interval=interval,
                frame=self.frame,
            )  # fmt: skip
        results = self.all_clients(
            timeout=args.deadline + 30,
            commands=[
                {"cmd": "collect", "expected": k * ticks, "quiet": args.quiet,
                 "deadline": args.deadline}
                for k in connected
            ],
        )  # fmt: skip
        latencies = sorted(us for r in results for us in r["latency_us"])
        received = sum(r["received"] for r in results)
        expected = sum(connected) * ticks
        last_ns = max((r["last_ns"] for r in results if r["last_ns"]), default=None)
        span = (last_ns - sent["first_ns"]) / 1e9 if last_ns and sent["first_ns"] else None
        publish_ms = sorted(sent["publish_ms"])
        return {
            "expected": expected,
            "received": received,
            "lost": expected - received,
            "duplicates": sum(r["duplicates"] for r in results),
            "stale": sum(r["stale"] for r in results),
            "disconnected": sum(r["disconnected"] for r in results),
            "rate": received / span if span and span > 0 else None,
            "span_s": span,
            "p50_ms": _ms(percentile(latencies, 0.50)),
            "p99_ms": _ms(percentile(latencies, 0.99)),
            "max_ms": _ms(latencies[-1] if latencies else None),
            "publish_p50_ms": percentile(publish_ms, 0.50),
            "publish_max_ms": publish_ms[-1] if publish_ms else None,
        }


def _ms(us: float | None) -> float | None:
    return None if us is None else us / 1000


def lost(result: dict, n: int, args) -> int:
    unconnected = (n - result["connected"]) * (args.ticks + args.burst)
    return result["paced"]["lost"] + result["burst"]["lost"] + unconnected


def fmt(value, spec: str = ".1f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def print_report(args, rows: dict[int, dict]) -> None:
    print()
    print(
        f"Tick fan-out: daphne + channels-redis vs bare websockets "
        f"(paced: {args.ticks} ticks every {args.interval} s; burst: {args.burst} back to back; "
        f"capacity {args.capacity}, expiry {args.expiry} s; {args.client_procs} client processes)"
    )
    header = (
        f"{'clients':>7} | {'channels deliv/s':>16} | {'p50 ms':>7} | {'p99 ms':>7} | "
        f"{'lost':>6} | {'bare deliv/s':>12} | {'p50 ms':>7} | {'p99 ms':>7} | {'lost':>5} | "
        f"{'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    for n, row in rows.items():
        ch, bare = row["channels"], row["bare"]
        ratio = (
            ch["burst"]["rate"] / bare["burst"]["rate"]
            if ch["burst"]["rate"] and bare["burst"]["rate"]
            else None
        )
        row["ratio"] = ratio
        print(
            f"{n:>7} | {fmt(ch['burst']['rate'], ',.0f'):>16} | "
            f"{fmt(ch['paced']['p50_ms']):>7} | {fmt(ch['paced']['p99_ms']):>7} | "
            f"{lost(ch, n, args):>6} | "
            f"{fmt(bare['burst']['rate'], ',.0f'):>12} | "
            f"{fmt(bare['paced']['p50_ms']):>7} | {fmt(bare['paced']['p99_ms']):>7} | "
            f"{lost(bare, n, args):>5} | "
            f"{fmt(ratio, '.2f'):>5}"
        )
    print(
        "deliv/s: burst phase; p50/p99: paced phase; lost: frames not received within the wait "
        "(dropped or later than --quiet/--deadline; both phases, plus every frame of a socket "
        "that failed to connect)."
    )
    for n, row in rows.items():
        for server in ("channels", "bare"):
            if row[server]["connected"] < n or row[server]["retried"]:
                print(
                    f"  {server} at {n}: {n - row[server]['connected']} sockets failed to "
                    f"connect, {row[server]['retried']} handshakes retried"
                )
    print()
    print("Detail per server and phase")
    detail = (
        f"{'clients':>7} {'server':>8} {'phase':>5} | {'recv/expected':>15} | {'deliv/s':>9} | "
        f"{'span s':>6} | {'p50':>7} {'p99':>7} {'max':>7} ms | {'publish p50/max ms':>18} | "
        f"dup stale disc"
    )
    print(detail)
    print("-" * len(detail))
    for n, row in rows.items():
        for server in ("channels", "bare"):
            for phase in ("paced", "burst"):
                p = row[server][phase]
                counts = f"{p['received']}/{p['expected']}"
                print(
                    f"{n:>7} {server:>8} {phase:>5} | "
                    f"{counts:>15} | {fmt(p['rate'], ',.0f'):>9} | "
                    f"{fmt(p['span_s'], '.2f'):>6} | {fmt(p['p50_ms']):>7} "
                    f"{fmt(p['p99_ms']):>7} {fmt(p['max_ms']):>7}    | "
                    f"{fmt(p['publish_p50_ms'], '.2f'):>8} / "
                    f"{fmt(p['publish_max_ms'], '.1f'):>7} | "
                    f"{p['duplicates']} {p['stale']} {p['disconnected']}"
                )
    print()
    goal = rows.get(GOAL_CLIENTS)
    if goal is None:
        print(f"Goal ({GOAL_CLIENTS:,} clients) not measured in this run.")
        return
    ratio, p99 = goal["ratio"], goal["channels"]["paced"]["p99_ms"]
    met = ratio is not None and ratio >= GOAL_RATIO and p99 is not None and p99 < GOAL_P99_MS
    print(
        f"Goal at {GOAL_CLIENTS:,} clients: channels >= {GOAL_RATIO} x bare deliveries/s and "
        f"p99 < {GOAL_P99_MS:.0f} ms -> ratio {fmt(ratio, '.2f')}, p99 {fmt(p99)} ms: "
        f"{'MET' if met else 'MISSED'}"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default=DEFAULT_CLIENTS, help="comma-separated sizes")
    parser.add_argument("--ticks", type=int, default=20, help="paced ticks per size and server")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between paced ticks")
    parser.add_argument("--burst", type=int, default=20, help="back-to-back ticks (throughput)")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes")
    parser.add_argument("--capacity", type=int, default=1000, help="CHANNEL_CAPACITY for the run")
    parser.add_argument("--expiry", type=int, default=10, help="CHANNEL_EXPIRY (s) for the run")
    parser.add_argument("--quiet", type=float, default=10.0, help="stop waiting after s silent")
    parser.add_argument("--deadline", type=float, default=60.0, help="longest wait per phase")
    parser.add_argument(
        "--connect-concurrency", type=int, default=25, help="handshakes in flight per process"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the helper logs")
    parser.add_argument("--profile-daphne", type=Path, help="run daphne under cProfile to here")
    args = parser.parse_args(argv)
    args.sizes = [int(part) for part in args.clients.split(",") if part.strip()]
    if not args.sizes or any(n < 1 or n > MAX_CLIENTS for n in args.sizes):
        parser.error(f"--clients: sizes between 1 and {MAX_CLIENTS:,}")
    if not 1 <= args.ticks <= 1000 or not 1 <= args.burst <= 1000:
        parser.error("--ticks and --burst: between 1 and 1,000")
    if not 1 <= args.client_procs <= 8:
        parser.error("--client-procs: between 1 and 8")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # A plain `kill` must still stop daphne and the helpers: turn SIGTERM into SystemExit.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    raise_file_limit(max(args.sizes) * 2 + 1024)
    logdir = Path(tempfile.mkdtemp(prefix="tick_fanout-"))
    stack = Stack(args, logdir)
    rows: dict[int, dict] = {}
    failed = True
    began = time.monotonic()
    try:
        stack.start()
        for n in args.sizes:
            rows[n] = {server: stack.measure(server, n) for server in ("channels", "bare")}
            ch, bare = rows[n]["channels"], rows[n]["bare"]
            log(
                f"{n} clients: channels {fmt(ch['burst']['rate'], ',.0f')}/s "
                f"p99 {fmt(ch['paced']['p99_ms'])} ms lost {ch['paced']['lost']}+"
                f"{ch['burst']['lost']}; bare {fmt(bare['burst']['rate'], ',.0f')}/s "
                f"p99 {fmt(bare['paced']['p99_ms'])} ms"
            )
        failed = False
    finally:
        stack.stop()
        if rows:
            print_report(args, rows)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2))
        log(f"done in {time.monotonic() - began:.0f} s")
        if failed or args.keep_logs:
            log(f"logs kept in {logdir}")
        else:
            shutil.rmtree(logdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
