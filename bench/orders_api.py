"""Benchmark: market orders per second through the API, beside pgbench running the same SQL.

Run: `.venv/bin/python -m bench.orders_api [--seconds 10] [--clients 1,4,8,16]
[--conn-max-age 60]`.

Uses a throwaway PostgreSQL database (BENCH_ORDERS_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/pt_bench_orders), dropped, recreated and migrated at the
start, and Redis DB 13 (BENCH_ORDERS_REDIS_URL; flushed at the start) for the server's
channel layer and throttle counters, as in production.

Setup: one 24/7 instrument with a quote and deep liquidity; a block of users, each with one
trading account (10,000,000 balance, leverage 10, opened through the real ledger) holding a
long position of 1,000 (so every benchmark order updates an open position: a buy adds to it,
a sell reduces it and realises P&L; positions never close, so the SQL per order is the same
all run long). Account 0 is for capturing SQL, then one block for the API and one for pgbench.

The API side: ONE daphne process (config.asgi:application, DEBUG off, throttles raised,
CONN_MAX_AGE=60 unless --conn-max-age) on 127.0.0.1 - the baseline deployment; there is no
load-balancing proxy on this machine, so more processes are not tried. The load tool runs in
other processes:

- peak search: wrk (bench/orders_api_wrk.lua) at each client count, one connection per wrk
  thread, each connection alternating buy / sell of 1 unit on its own account ("distinct"), or
  every connection on the same account ("hot"). Orders/s counts 2xx answers only; p50 / p99
  come from wrk's latency histogram;
- 70 % of peak: bench/orders_api_paced.py sends at 0.7 x the best distinct rate, open loop
  (latency measured from each request's due time, like wrk2), one thread and account per
  client of the largest client count.

After every API run: non-2xx answers are counted, the orders written are counted against the
2xx answers, and `ledger_reconcile()` must report a balanced book.

Also counted per API run: new PostgreSQL sessions per order and the server's sessions still
open afterwards. With the production CONN_MAX_AGE=60, Django under daphne opens a new
connection for every request (each request's sync code runs on a fresh thread, and
connections are per thread) and leaves it open until garbage collection (Django ticket
#33497): a cost on every order, and at enough load `too many clients` 500s from PostgreSQL.
`--conn-max-age 0` runs the server with per-request connections closed at the end instead.

The pgbench side, same database: one API request (a buy and a sell) is sent through Django's
test client under CaptureQueriesContext, and the statements it ran - the whole request: the
JWT user lookup, the account lookup, BEGIN, order_place's statements with their SAVEPOINTs,
COMMIT and the answer's queries - become a pgbench script (bench/results/
orders_pgbench_*.sql): per transaction a buy or a sell, alternating per client like the API
clients, the account-specific ids replaced by pgbench variables (accounts are created with
contiguous ids, so `:client_id` arithmetic finds each client's account; "hot" puts every client
on one account) and the ids of inserted rows taken with `RETURNING ... \\gset` where later
statements use them. pgbench replays literal values (balances, quantities), so it leaves its
own accounts' ledger unreconciled: the pgbench runs therefore come after every API run and
its reconciliation (not interleaved with them).

Prints one table, the 70 %-of-peak line and the goal line. Asserts nothing; the figures are
what they are. Goal from the issue: API >= 0.35 x pgbench's rate, p99 < 50 ms at 70 % of peak.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.common import (
    flush_redis,
    free_port,
    recreate_database,
    setup_django_without_redis,
    spawn_daphne,
    stop_process,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "orders_api_wrk.lua"
DATABASE_URL = os.environ.get(
    "BENCH_ORDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pt_bench_orders"
)
REDIS_URL = os.environ.get("BENCH_ORDERS_REDIS_URL", "redis://127.0.0.1:6379/13")
SYMBOL = "BENCH-USD"
BALANCE = Decimal("10000000.00")
LEVERAGE = Decimal("10")
START_POSITION = Decimal("1000")
SECRET_KEY = "bench-orders-api-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
GOAL_RATIO = 0.35
GOAL_P99_MS = 50.0
PACED_SHARE = 0.7

# Sequences start at these bases before the benchmark accounts are created, so that every id
# in the captured SQL is a distinctive 9-digit number that cannot be mistaken for a quantity,
# a balance or another table's id when it is replaced by a pgbench variable.
ID_BASES = {
    "accounts_user": 710_000_000,
    "ledger_ledgeraccount": 720_000_000,
    "trading_tradingaccount": 730_000_000,
    "trading_order": 740_000_000,
    "trading_fill": 750_000_000,
    "trading_position": 760_000_000,
    "ledger_journal": 770_000_000,
    "ledger_posting": 780_000_000,
}
ID_LOW, ID_HIGH = 710_000_000, 790_000_000

# Settings shared by this process (seeding, capture) and the daphne server.
COMMON_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "false",
    "SECRET_KEY": SECRET_KEY,
    "SECURE_SSL_REDIRECT": "false",
    "STATIC_MANIFEST": "false",
    # DRF keeps each user's request times of the last period in the cache; a per-second period
    # keeps that list as short as production's 1200/min does, while never refusing an order.
    "THROTTLE_USER": "1000000/s",
    "THROTTLE_ANON": "1000000/s",
    "JWT_ACCESS_MINUTES": "600",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


# --- database and seed ---------------------------------------------------------------------------


def fresh_database() -> None:
    recreate_database(DATABASE_URL)
    env = {**os.environ, **COMMON_ENV}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def setup_django() -> None:
    # This process never publishes to a real channel layer nor uses the shared cache: the SQL
    # an order runs does not depend on them. The daphne server gets REDIS_URL.
    setup_django_without_redis(COMMON_ENV)


@dataclass
class Seed:
    instrument_id: int
    # index -> (user_id, ledger_account_id, trading_account_id, position_id, token)
    users: list[int] = field(default_factory=list)
    ledgers: list[int] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    api_first: int = 1  # index of the first API account
    pgbench_first: int = 0  # index of the first pgbench account


def _set_sequences() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table, base in ID_BASES.items():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, true)", [table, base]
            )


def _contiguous(ids: list[int], what: str) -> None:
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise SystemExit(f"seeding error: {what} ids are not contiguous: {ids[:5]}...")


def seed(per_block: int) -> Seed:
    from accounts.models import User
    from accounts.services import tokens_issue
    from ledger.models import HOUSE_ACCOUNTS
    from ledger.services import house_account
    from trading.models import Position
    from trading.services import OrderRequest, account_open, order_place
    from trading.tests.factories import make_market

    instrument = make_market(
        SYMBOL, liquidity=Decimal("100000"), max_quantity=Decimal("100000"), lot_size=Decimal("1")
    )
    for code in HOUSE_ACCOUNTS:  # created now, so they never interleave with the block's ids
        house_account(code)
    _set_sequences()
    count = 1 + 2 * per_block
    User.objects.bulk_create(
        User(email=f"bench-orders-{n:03d}@example.com", display_name=f"bench {n}")
        for n in range(count)
    )
    users = list(
        User.objects.filter(email__startswith="bench-orders-")
        .order_by("email")
        .values_list("id", flat=True)
    )
    result = Seed(instrument_id=instrument.pk, api_first=1, pgbench_first=1 + per_block)
    for user in User.objects.filter(pk__in=users).order_by("email"):
        account = account_open(
            owner=user, name="Bench", initial_balance=BALANCE, max_leverage=LEVERAGE
        )
        order_place(
            account=account,
            request=OrderRequest(symbol=SYMBOL, side="buy", type="market", quantity=START_POSITION),
        )
        result.users.append(user.pk)
        result.ledgers.append(account.cash_account_id)
        result.accounts.append(account.pk)
        result.positions.append(Position.objects.get(account=account, closed_at__isnull=True).pk)
        result.tokens.append(tokens_issue(user=user)["access"])
    for name in ("users", "ledgers", "accounts", "positions"):
        _contiguous(getattr(result, name), name)
    return result


# --- SQL capture and the pgbench script -------------------------------------------------------


@dataclass
class Captured:
    side: str
    statements: list[str]
    new_ids: dict[str, list[int]]  # table -> ids inserted by this request


def _max_ids() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for table in ("trading_order", "trading_fill", "ledger_journal", "ledger_posting"):
            cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
            result[table] = cursor.fetchone()[0]
        return result


def _new_ids(before: dict[str, int]) -> dict[str, list[int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for table, mark in before.items():
            cursor.execute(f'SELECT id FROM "{table}" WHERE id > %s ORDER BY id', [mark])
            result[table] = [row[0] for row in cursor.fetchall()]
        return result


def capture(seed_data: Seed) -> list[Captured]:
    """A buy, a sell, a buy, a sell through the whole API stack on account 0; returns the last
    two (steady state: the first order of a day also rolls the day-start equity)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    account = seed_data.accounts[0]
    auth = f"Bearer {seed_data.tokens[0]}"
    captured = []
    for side in ("buy", "sell", "buy", "sell"):
        before = _max_ids()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                f"/api/accounts/{account}/orders",
                data={"symbol": SYMBOL, "side": side, "type": "market", "quantity": "1"},
                content_type="application/json",
                HTTP_AUTHORIZATION=auth,
            )
        if response.status_code != 201:
            raise SystemExit(f"capture: {side} answered {response.status_code}: {response.content}")
        captured.append(
            Captured(side, [q["sql"] for q in queries.captured_queries], _new_ids(before))
        )
    return captured[2:]


_NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_INSERT = re.compile(r'^INSERT INTO "(\w+)"')


def _script_body(item: Captured, fixed: dict[int, str]) -> list[str]:
    """The statements of one captured request as pgbench commands."""
    names = dict(fixed)
    gsets: dict[str, list[str]] = {}  # table -> \gset prefixes, in insert order
    for table, prefix in (("trading_order", "order"), ("trading_fill", "fill")):
        for n, pk in enumerate(item.new_ids[table]):
            names[pk] = f"{prefix}{n or ''}_id"
            gsets.setdefault(table, []).append(f"{prefix}{n or ''}_")
    for n, pk in enumerate(item.new_ids["ledger_journal"], start=1):
        names[pk] = f"j{n}_id"
        gsets.setdefault("ledger_journal", []).append(f"j{n}_")

    def substitute(match: re.Match) -> str:
        value = int(match.group(1))
        if value in names:
            return ":" + names[value]
        if ID_LOW <= value < ID_HIGH:
            raise SystemExit(f"capture: id {value} in the SQL has no pgbench variable")
        return match.group(0)

    lines = []
    for sql in item.statements:
        sql = " ".join(sql.split())
        body = _NUMBER.sub(substitute, sql)
        insert = _INSERT.match(sql)
        if insert and gsets.get(insert.group(1)):
            lines.append(f"{body} \\gset {gsets[insert.group(1)].pop(0)}")
        else:
            lines.append(body + ";")
    return lines


def pgbench_script(seed_data: Seed, captured: list[Captured], mode: str) -> str:
    buy = next(c for c in captured if c.side == "buy")
    sell = next(c for c in captured if c.side == "sell")
    fixed = {
        seed_data.users[0]: "uid",
        seed_data.ledgers[0]: "lid",
        seed_data.accounts[0]: "aid",
        seed_data.positions[0]: "pid",
    }
    first = seed_data.pgbench_first
    offset = " + :client_id" if mode == "distinct" else ""
    lines = [
        f"-- Generated by bench/orders_api.py ({mode}): one market order per transaction, the",
        "-- statements one API request runs (captured from Django), alternating buy / sell per",
        "-- client. Run with -D n=0.",
        "\\set n :n + 1",
        f"\\set uid {seed_data.users[first]}{offset}",
        f"\\set lid {seed_data.ledgers[first]}{offset}",
        f"\\set aid {seed_data.accounts[first]}{offset}",
        f"\\set pid {seed_data.positions[first]}{offset}",
        "\\if :n % 2 = 1",
        f"-- buy: {len(buy.statements)} statements",
        *_script_body(buy, fixed),
        "\\else",
        f"-- sell: {len(sell.statements)} statements",
        *_script_body(sell, fixed),
        "\\endif",
    ]
    return "\n".join(lines) + "\n"


def statement_summary(item: Captured) -> str:
    kinds: dict[str, int] = {}
    inside = 0
    in_tx = False
    for sql in item.statements:
        word = sql.split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
        if word == "BEGIN":
            in_tx = True
        elif word == "COMMIT":
            in_tx = False
        elif in_tx:
            inside += 1
    parts = ", ".join(f"{n} {word}" for word, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return (
        f"{item.side}: {len(item.statements)} statements ({parts}); "
        f"{inside} inside the order transaction"
    )


# --- processes ----------------------------------------------------------------------------------


def start_daphne(port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, **COMMON_ENV, "REDIS_URL": REDIS_URL, "ALLOWED_HOSTS": "127.0.0.1"}
    proc = spawn_daphne(port, env, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited ({proc.returncode}); see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    stop_process(proc)
    raise SystemExit(f"daphne did not listen on {port} within 60 s; see {log_path}")


# --- runs ---------------------------------------------------------------------------------------


@dataclass
class ApiRun:
    rate: float
    p50_ms: float
    p99_ms: float
    ok: int
    non2xx: int
    errors: int
    written: int
    reconciled: bool
    clients: int = 0
    connects: int = 0  # new PostgreSQL sessions during the run
    backends: int = 0  # sessions still connected to the bench database after it

    @property
    def written_ok(self) -> bool:
        # wrk stops at the deadline without waiting for the requests in flight (at most one
        # per connection); the server still completes them.
        return self.ok <= self.written <= self.ok + self.clients

    note: str = ""


def _orders_written(mark: int) -> int:
    from trading.models import Order

    return Order.objects.filter(pk__gt=mark).count()


def _order_mark() -> int:
    from django.db.models import Max

    from trading.models import Order

    return Order.objects.aggregate(m=Max("id"))["m"] or 0


def _db_sessions() -> tuple[int, int]:
    """(sessions ever opened on the bench database, backends connected to it now), the
    latter excluding this process's own connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT sessions FROM pg_stat_database WHERE datname = current_database()),"
            " (SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database())"
        )
        return cursor.fetchone()


def _quiesce(timeout: float = 30.0) -> None:
    """Wait until the server has finished the requests still in flight when the load tool
    stopped (wrk does not wait for them): no new order for one second."""
    deadline = time.monotonic() + timeout
    last, stable_since = _order_mark(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        mark = _order_mark()
        if mark != last:
            last, stable_since = mark, time.monotonic()
        elif time.monotonic() - stable_since >= 1.0:
            return


def _reconciled() -> tuple[bool, str]:
    from ledger.services import ledger_reconcile

    report = ledger_reconcile()
    problems = "; ".join(p.message for p in report.problems[:3])
    return report.ok, problems


def run_wrk(port: int, accounts_file: Path, mode: str, clients: int, seconds: float) -> ApiRun:
    mark = _order_mark()
    sessions_before = _db_sessions()[0]
    command = [
        "wrk",
        "-t",
        str(clients),
        "-c",
        str(clients),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(accounts_file),
        mode,
        SYMBOL,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    _quiesce()
    written = _orders_written(mark)
    sessions_after, backends = _db_sessions()
    reconciled, problems = _reconciled()
    note = ""
    if data["bad_status"]:
        note = f"last non-2xx: {data['bad_status']} {data['bad_body'][:120]}"
    if problems:
        note += f" reconcile: {problems}"
    return ApiRun(
        rate=data["ok"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        ok=data["ok"],
        non2xx=data["requests"] - data["ok"],
        errors=errors,
        written=written,
        reconciled=reconciled,
        clients=clients,
        connects=sessions_after - sessions_before,
        backends=backends,
        note=note,
    )


def run_paced(port: int, accounts_file: Path, rate: float, clients: int, seconds: float) -> dict:
    mark = _order_mark()
    command = [
        sys.executable,
        str(ROOT / "bench" / "orders_api_paced.py"),
        "--port",
        str(port),
        "--accounts",
        str(accounts_file),
        "--rate",
        f"{rate:.3f}",
        "--seconds",
        str(seconds),
        "--threads",
        str(clients),
        "--symbol",
        SYMBOL,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise SystemExit(f"paced load generator failed:\n{done.stdout}\n{done.stderr}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["written"] = _orders_written(mark)
    data["reconciled"], data["problems"] = _reconciled()
    return data


@dataclass
class PgbenchRun:
    tps: float
    avg_ms: float
    p50_ms: float
    p99_ms: float
    failed: int
    note: str = ""


def _percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def run_pgbench(script: Path, mode: str, clients: int, seconds: float) -> PgbenchRun:
    name = DATABASE_URL.rsplit("/", 1)[1]
    prefix = RESULTS / f"pgbench_log_{mode}_{clients}"
    for old in RESULTS.glob(prefix.name + ".*"):
        old.unlink()
    command = [
        "pgbench",
        "-n",
        "-h",
        "127.0.0.1",
        "-p",
        "5432",
        "-U",
        "postgres",
        "-f",
        str(script),
        "-c",
        str(clients),
        "-j",
        str(min(2, clients)),
        "-T",
        str(int(seconds)),
        "-D",
        "n=0",
        "--log",
        f"--log-prefix={prefix}",
        name,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout + done.stderr

    def number(pattern: str) -> float:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else float("nan")

    latencies = []
    for log in RESULTS.glob(prefix.name + ".*"):
        for row in log.read_text().splitlines():
            fields = row.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000)
        log.unlink()
    failed = number(r"number of failed transactions: (\d+)")
    note = ""
    if done.returncode != 0:
        errors = [x for x in out.splitlines() if "error" in x.lower() or "abort" in x.lower()]
        note = f"pgbench exit {done.returncode}: {' | '.join(errors[:2])[:200]}"
    return PgbenchRun(
        tps=number(r"tps = ([\d.]+) \(without initial connection time\)"),
        avg_ms=number(r"latency average = ([\d.]+) ms"),
        p50_ms=_percentile(latencies, 50),
        p99_ms=_percentile(latencies, 99),
        failed=0 if failed != failed else int(failed),
        note=note,
    )


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per run (default 10)")
    parser.add_argument(
        "--clients", default="1,4,8,16", help="client counts, comma-separated (default 1,4,8,16)"
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE of the server (default 60, the production default)",
    )
    args = parser.parse_args()
    COMMON_ENV["CONN_MAX_AGE"] = str(args.conn_max_age)
    client_counts = sorted({int(x) for x in args.clients.split(",") if x.strip()})
    if not client_counts or client_counts[0] < 1:
        raise SystemExit("--clients needs positive integers")
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    most = client_counts[-1]
    started = time.perf_counter()
    RESULTS.mkdir(parents=True, exist_ok=True)

    fresh_database()
    flush_redis(REDIS_URL)
    setup_django()
    seed_data = seed(most)
    captured = capture(seed_data)
    scripts = {}
    for mode in ("distinct", "hot"):
        scripts[mode] = RESULTS / f"orders_pgbench_{mode}.sql"
        scripts[mode].write_text(pgbench_script(seed_data, captured, mode))
    accounts_file = RESULTS / "orders_api_accounts.txt"
    first = seed_data.api_first
    accounts_file.write_text(
        "".join(
            f"{seed_data.accounts[i]} {seed_data.tokens[i]}\n" for i in range(first, first + most)
        )
    )
    from django.db import connection

    connection.close()
    print(
        f"orders API benchmark on {DATABASE_URL} (setup {time.perf_counter() - started:.0f} s); "
        f"{args.seconds:g} s per run; one daphne process, CONN_MAX_AGE={args.conn_max_age}; "
        "load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("SQL per order, captured from one API request (pgbench replays exactly these):")
    for item in captured:
        print(f"  {statement_summary(item)}")
    print(f"  pgbench scripts: {scripts['distinct']} and {scripts['hot'].name}")

    api: dict[tuple[str, int], ApiRun] = {}
    pg: dict[tuple[str, int], PgbenchRun] = {}
    paced: dict | None = None
    daphne = None
    try:
        port = free_port()
        daphne = start_daphne(port, RESULTS / "orders_api_daphne.log")
        run_wrk(port, accounts_file, "distinct", min(4, most), 2.0)  # warm-up, not reported
        for clients in client_counts:
            api["distinct", clients] = run_wrk(
                port, accounts_file, "distinct", clients, args.seconds
            )
        peak_clients, peak = max(
            ((c, api["distinct", c].rate) for c in client_counts), key=lambda x: x[1]
        )
        paced = run_paced(port, accounts_file, PACED_SHARE * peak, most, args.seconds)
        paced["peak"], paced["peak_clients"] = peak, peak_clients
        for clients in client_counts:
            if clients > 1:
                api["hot", clients] = run_wrk(port, accounts_file, "hot", clients, args.seconds)
    finally:
        stop_process(daphne)
    # pgbench writes literal balances, so it runs after every API run has been reconciled.
    for clients in client_counts:
        pg["distinct", clients] = run_pgbench(
            scripts["distinct"], "distinct", clients, args.seconds
        )
    for clients in client_counts:
        if clients > 1:
            pg["hot", clients] = run_pgbench(scripts["hot"], "hot", clients, args.seconds)

    report(api, pg, paced)
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s")


def report(api: dict, pg: dict, paced: dict) -> None:
    header = (
        f"{'mode':<8} {'clients':>7} {'API ord/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'non-2xx':>7} {'written':>7} {'ledger':>6} {'conn/ord':>8} {'idle':>4} | "
        f"{'pgbench tps':>11} {'avg ms':>7} {'p50 ms':>7} {'p99 ms':>7} {'failed':>6} | "
        f"{'API/pgbench':>11}"
    )
    print()
    print(header)
    print("-" * len(header))
    notes = []
    for key in sorted(api, key=lambda k: (k[0] != "distinct", k[1])):
        a, p = api[key], pg.get(key)
        ratio = a.rate / p.tps if p and p.tps == p.tps and p.tps > 0 else float("nan")
        print(
            f"{key[0]:<8} {key[1]:>7} {a.rate:>9.1f} {a.p50_ms:>7.1f} {a.p99_ms:>7.1f} "
            f"{a.non2xx + a.errors:>7} {'ok' if a.written_ok else a.written:>7} "
            f"{'ok' if a.reconciled else 'BAD':>6} "
            f"{a.connects / max(a.written, 1):>8.2f} {a.backends:>4} | "
            f"{p.tps:>11.1f} {p.avg_ms:>7.2f} {p.p50_ms:>7.2f} {p.p99_ms:>7.2f} {p.failed:>6} | "
            f"{ratio:>10.2f}x"
        )
        if a.note:
            notes.append(f"  API {key[0]} {key[1]}: {a.note}")
        if p and p.note:
            notes.append(f"  pgbench {key[0]} {key[1]}: {p.note}")
    print(
        "(written: orders in the database = 2xx answers, plus at most one in flight per client "
        "when wrk stopped; ledger: ledger_reconcile() after the run; conn/ord: new PostgreSQL "
        "sessions per order written; idle: server sessions still open after the run; "
        "API/pgbench: orders/s over pgbench transactions/s, one transaction = one order)"
    )
    if notes:
        print("notes:")
        print("\n".join(notes))

    best_pg = max((p.tps for (mode, _), p in pg.items() if mode == "distinct"), default=0)
    written = "ok" if paced["written"] == paced["ok"] else paced["written"]
    ledger = "ok" if paced["reconciled"] else "BAD " + paced["problems"]
    print()
    print(
        f"70 % of peak: peak {paced['peak']:.1f} orders/s (distinct, {paced['peak_clients']} "
        f"clients); paced at {paced['target_rate']:.1f}/s open loop with "
        f"{max(c for m, c in api if m == 'distinct')} clients -> {paced['rate']:.1f} orders/s, "
        f"p50 {paced['p50_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms (from due time; service "
        f"time p50 {paced['service_p50_ms']:.1f}, p99 {paced['service_p99_ms']:.1f}), non-2xx "
        f"{paced['non2xx']}, written {written}, ledger {ledger}"
    )
    ratio = paced["peak"] / best_pg if best_pg else float("nan")
    rate_ok = ratio >= GOAL_RATIO
    p99_ok = paced["p99_ms"] < GOAL_P99_MS
    print(
        f"goal: API >= {GOAL_RATIO} x pgbench and p99 < {GOAL_P99_MS:g} ms at 70 % of peak -> "
        f"peak {paced['peak']:.1f} vs best pgbench {best_pg:.1f} tps = {ratio:.2f} x "
        f"({'met' if rate_ok else 'MISSED'}); p99 at 70 % {paced['p99_ms']:.1f} ms "
        f"({'met' if p99_ok else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
