"""Benchmark: the dashboard and trade pages of a busy trader, beside the same URLs answering
with pre-rendered bytes through the same middleware.

Run: `.venv/bin/python -m bench.pages [--seconds 10] [--connections 1,4] [--profile]`.

Uses a throwaway PostgreSQL database (BENCH_PAGES_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/pt_bench_pages), dropped, recreated, migrated and seeded
(`manage.py seed`: the demo market with its candle history) at the start, and Redis DB 11
(BENCH_PAGES_REDIS_URL; flushed at the start) for the servers' channel layer and cache, as in
production.

Setup (`trader_with_book`): one trader with a password, whose default account (1,000,000,
leverage 2) holds 50 open positions (BTC-USD, ETH-USD, SOL-USD and 47 more 24/7 instruments
added for the benchmark, 10 of the 50 short) and 200 orders, all placed through
trading.services: 50 market orders opening the positions, 30 adding to them, 20 partial closes,
10 marketable limit orders, 45 limit orders canceled, 40 resting limit orders and 5 resting
stops (7 of the resting ones on BTC-USD), so 155 filled or canceled and 45 open. The watchlist
holds 8 seeded instruments (the dashboard draws their sparklines from the seeded candles).

Two daphne processes (DEBUG off, the PostgreSQL pool, Redis channel layer and cache; static
files without the manifest, so no collectstatic is needed), started together, idle in turn:

- real: config.asgi:application with config.settings, as in production;
- pre-rendered: the same application and middleware with DJANGO_SETTINGS_MODULE=
  bench.pages_settings, whose URLconf (bench/pages_urls.py) maps the same paths to a view
  returning the bytes the real server rendered for them. It never reads request.user, so the
  lazy session and user lookups (2 queries) are not made there: they belong to the page's cost.

The trader logs in through the login page of the real server (session and CSRF cookies). Each
page is fetched once from it and its bytes are captured for the pre-rendered server. Requests
carry X-Forwarded-Proto: https, as behind production's nginx. Then, at each connection count,
for each page: wrk (bench/pages_wrk.lua, one process, at most 2 threads) against the real
server, then against the pre-rendered one, after a short warm-up of each.

Also measured in this process (Django's test client, same database, same session): the queries
and the median in-process time of one render of each page; `--profile` adds the top functions
of a cProfile of 20 renders per page.

Prints a table (page, connections, requests/s, p50, p99 for real and pre-rendered, ratio) and
the goal per row. Asserts nothing; the figures are what they are. Goal from the issue: real
>= 0.4 x the pre-rendered requests/s and p50 < 50 ms.
"""

import argparse
import cProfile
import http.client
import json
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import time as clock_time
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import (
    flush_redis,
    free_port,
    recreate_database,
    setup_django_without_redis,
    spawn_daphne,
    stop_process,
)

if TYPE_CHECKING:
    from trading.models import TradingAccount

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "pages_wrk.lua"
DATABASE_URL = os.environ.get(
    "BENCH_PAGES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pt_bench_pages"
)
REDIS_URL = os.environ.get("BENCH_PAGES_REDIS_URL", "redis://127.0.0.1:6379/11")
SECRET_KEY = "bench-pages-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"
TRADER_EMAIL = "bench-pages@example.com"
TRADER_PASSWORD = "bench-pages-password-2026"
SYMBOL = "BTC-USD"
PAGES = {"dashboard": "/", "trade": f"/trade/{SYMBOL}/"}
POSITIONS = 50
ORDERS = 200
WATCHLIST = ("BTC-USD", "ETH-USD", "SOL-USD", "AAPL", "MSFT", "NVDA", "SPY", "EURUSD")
GOAL_RATIO = 0.4
GOAL_P50_MS = 50.0

# Settings shared by this process (seeding, capture, profiling) and the two daphne servers.
COMMON_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "false",
    "SECRET_KEY": SECRET_KEY,
    "STATIC_MANIFEST": "false",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


# --- database and seed ---------------------------------------------------------------------------


def _manage(*args: str) -> None:
    env = {**os.environ, **COMMON_ENV}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def fresh_database() -> None:
    recreate_database(DATABASE_URL)
    _manage("migrate", "--noinput", "--verbosity", "0")
    _manage("seed")


def setup_django() -> None:
    # Seeding publishes to the in-memory layer (nobody listens); the servers get REDIS_URL.
    setup_django_without_redis(COMMON_ENV)


def extra_instruments(count: int) -> list[str]:
    """COUNT more 24/7 instruments with their quotes (the seeded universe has three)."""
    from market.models import ALL_DAYS, AssetClass, Instrument
    from market.services import market_seed_quotes

    symbols = []
    for n in range(1, count + 1):
        symbol = f"PG{n:02d}-USD"
        Instrument.objects.get_or_create(
            symbol=symbol,
            defaults={
                "name": f"Page bench coin {n}",
                "asset_class": AssetClass.CRYPTO,
                "tick_size": Decimal("0.01"),
                "lot_size": Decimal("0.01"),
                "min_quantity": Decimal("0.01"),
                "max_quantity": Decimal("100000"),
                "spread_bps": Decimal("3"),
                "volatility": Decimal("0.6"),
                "liquidity": Decimal("100000"),
                "initial_price": Decimal("10.25") + 7 * n,
                "max_leverage": Decimal("5"),
                "commission_rate": Decimal("0.0005"),
                "session_timezone": "UTC",
                "session_open": clock_time(0, 0),
                "session_close": clock_time(0, 0),
                "session_days": ALL_DAYS,
            },
        )
        symbols.append(symbol)
    market_seed_quotes()
    return symbols


def trader_with_book(*, email: str, password: str) -> "TradingAccount":
    """A trader whose default account holds POSITIONS open positions and ORDERS orders, placed
    through trading.services (see the module docstring for the mix). Returns the account."""
    from accounts.models import User
    from config.money import quantize_step
    from market.models import Instrument
    from market.watchlist import watchlist_add
    from trading.models import Order, OrderSource, OrderType, Position, Side
    from trading.services import (
        OrderRequest,
        account_open,
        order_cancel,
        order_place,
        position_close,
    )

    user = User.objects.create_user(email=email, password=password, display_name="bench-trader")
    account = account_open(
        owner=user,
        name="Main",
        initial_balance=Decimal("1000000.00"),
        max_leverage=Decimal("2"),
        is_default=True,
    )
    for symbol in WATCHLIST:
        watchlist_add(user=user, symbol=symbol)
    seeded = [SYMBOL, "ETH-USD", "SOL-USD"]
    symbols = seeded + extra_instruments(POSITIONS - len(seeded))
    instruments = {
        i.symbol: i for i in Instrument.objects.select_related("quote").filter(symbol__in=symbols)
    }
    notional = Decimal("8000")

    def size(symbol: str, share: Decimal = Decimal("1")) -> Decimal:
        inst = instruments[symbol]
        return max(
            quantize_step(notional * share / inst.quote.ask, inst.lot_size, ROUND_DOWN),
            inst.min_quantity,
        )

    def price(symbol: str, factor: str, rounding: str) -> Decimal:
        inst = instruments[symbol]
        reference = inst.quote.bid if Decimal(factor) < 1 else inst.quote.ask
        return quantize_step(reference * Decimal(factor), inst.tick_size, rounding)

    def place(symbol: str, side: str, type: str, quantity: Decimal, **prices) -> Order:
        request = OrderRequest(symbol=symbol, side=side, type=type, quantity=quantity, **prices)
        order, _ = order_place(account=account, request=request, source=OrderSource.WEB)
        return order

    short = {symbol for n, symbol in enumerate(symbols) if n % 5 == 4}  # 10 of 50

    def opening(symbol: str) -> str:
        return Side.SELL if symbol in short else Side.BUY

    def closing(symbol: str) -> str:
        return Side.BUY if symbol in short else Side.SELL

    for symbol in symbols:  # 50 market orders open the positions
        place(symbol, opening(symbol), OrderType.MARKET, size(symbol))
    for symbol in symbols[:30]:  # 30 add to them
        place(symbol, opening(symbol), OrderType.MARKET, size(symbol, Decimal("0.5")))
    for symbol in symbols[10:30]:  # 20 partial closes (reduce-only market orders)
        position_close(
            account=account, symbol=symbol, percent=Decimal("25"), source=OrderSource.WEB
        )
    for symbol in symbols[30:40]:  # 10 marketable limit orders (fill at once)
        buy = opening(symbol) == Side.BUY
        limit = price(symbol, "1.01", ROUND_UP) if buy else price(symbol, "0.99", ROUND_DOWN)
        place(
            symbol,
            opening(symbol),
            OrderType.LIMIT,
            size(symbol, Decimal("0.25")),
            limit_price=limit,
        )
    for n in range(45):  # 45 limit orders away from the market, canceled
        symbol = symbols[n % POSITIONS]
        buy = opening(symbol) == Side.BUY
        limit = price(symbol, "0.90", ROUND_DOWN) if buy else price(symbol, "1.10", ROUND_UP)
        order = place(
            symbol,
            opening(symbol),
            OrderType.LIMIT,
            size(symbol, Decimal("0.25")),
            limit_price=limit,
        )
        order_cancel(account=account, order_id=order.pk)
    resting = [SYMBOL] * 6 + symbols[1:35]
    for n, symbol in enumerate(resting):  # 40 resting limit orders, 6 on BTC-USD
        buy = opening(symbol) == Side.BUY
        factor = ("0.95", "0.97", "0.98")[n % 3] if buy else ("1.05", "1.03", "1.02")[n % 3]
        limit = price(symbol, factor, ROUND_DOWN if buy else ROUND_UP)
        place(
            symbol,
            opening(symbol),
            OrderType.LIMIT,
            size(symbol, Decimal("0.2")),
            limit_price=limit,
        )
    for symbol in [SYMBOL, *[s for s in symbols[1:10] if s not in short][:4]]:  # 5 resting stops
        stop = price(symbol, "0.90", ROUND_DOWN)  # protective sell stops below longs
        place(
            symbol, closing(symbol), OrderType.STOP, size(symbol, Decimal("0.5")), stop_price=stop
        )

    open_positions = Position.objects.filter(account=account, closed_at__isnull=True).count()
    orders = Order.objects.filter(account=account).count()
    if (open_positions, orders) != (POSITIONS, ORDERS):
        raise SystemExit(
            f"seeding error: {open_positions} open positions and {orders} orders, "
            f"wanted {POSITIONS} and {ORDERS}"
        )
    return account


def book_summary(account) -> str:
    from django.db.models import Count

    from trading.models import Order

    statuses = dict(
        Order.objects.filter(account=account)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))


# --- the servers ---------------------------------------------------------------------------------


def start_daphne(
    port: int, settings_module: str, log_path: Path, captured: Path
) -> subprocess.Popen:
    env = {
        **os.environ,
        **COMMON_ENV,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "REDIS_URL": REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BENCH_PAGES_CAPTURED": str(captured),
    }
    return spawn_daphne(port, env, log_path)


def wait_until_serving(port: int, path: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited ({proc.returncode}); see {log_path}")
        try:
            if request(port, "GET", path, {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"daphne did not answer {path} on {port} within 60 s; see {log_path}")


# --- HTTP with cookies ---------------------------------------------------------------------------


def request(
    port: int, method: str, path: str, cookies: dict[str, str], form: dict | None = None
) -> tuple[int, http.client.HTTPResponse, bytes]:
    """One request as a browser behind production's nginx would send it; COOKIES is updated
    from the answer's Set-Cookie headers."""
    from urllib.parse import urlencode

    headers = {"X-Forwarded-Proto": "https", "Accept": "text/html"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"https://127.0.0.1:{port}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookie = rest.split(";", 1)[0]
            if cookie in ("", '""'):
                cookies.pop(key, None)
            else:
                cookies[key] = cookie
    return response.status, response, data


def login(port: int) -> dict[str, str]:
    """Sign in through the login page; returns the browser's cookies (session and CSRF)."""
    cookies: dict[str, str] = {}
    status, _, _ = request(port, "GET", "/accounts/login/", cookies)
    if status != 200 or "csrftoken" not in cookies:
        raise SystemExit(f"login page answered {status} without a CSRF cookie")
    form = {
        "email": TRADER_EMAIL,
        "password": TRADER_PASSWORD,
        "csrfmiddlewaretoken": cookies["csrftoken"],
    }
    status, _, body = request(port, "POST", "/accounts/login/", cookies, form)
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"login answered {status}: {body[:300]!r}")
    request(port, "GET", "/", cookies)  # shows (and so clears) the "You are logged in." message
    return {name: cookies[name] for name in ("sessionid", "csrftoken")}


def capture(port: int, cookies: dict[str, str], symbols: list[str]) -> Path:
    """Fetch each page from the real server, check it, and write its bytes and the manifest
    that bench/pages_urls.py reads."""
    manifest = {}
    for name, path in PAGES.items():
        status, response, body = request(port, "GET", path, dict(cookies))
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        text = body.decode()
        wanted = symbols if name == "dashboard" else [SYMBOL]
        missing = [s for s in wanted if f">{s}<" not in text and f'"{s}"' not in text]
        if missing:
            raise SystemExit(f"{path} does not show {missing[:5]}")
        file = RESULTS / f"pages_prerendered_{name}.html"
        file.write_bytes(body)
        manifest[path] = {"file": str(file), "content_type": response.getheader("Content-Type")}
    target = RESULTS / "pages_captured.json"
    target.write_text(json.dumps(manifest, indent=2))
    return target


# --- in-process: queries, render time, profile ---------------------------------------------------


@dataclass
class InProcess:
    queries: int
    render_ms: float
    size: int


def in_process(cookies: dict[str, str], profile: bool) -> dict[str, InProcess]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for name, value in cookies.items():
        client.cookies[name] = value
    result = {}
    for name, path in PAGES.items():
        client.get(path, secure=True)  # warm-up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)
        count = len(queries)  # now: every request clears the connection's query log
        if response.status_code != 200:
            raise SystemExit(f"test client: {path} answered {response.status_code}")
        times = []
        for _ in range(20):
            started = time.perf_counter()
            client.get(path, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        result[name] = InProcess(count, statistics.median(times), len(response.content))
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(path, secure=True)
            profiler.disable()
            out = StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)
            print(f"\n--- cProfile of 20 renders of {path} ---")
            print(re.sub(r"\n{3,}", "\n\n", out.getvalue()))
    return result


# --- load --------------------------------------------------------------------------------------


@dataclass
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    kb: float  # bytes per response, headers included
    errors: int
    note: str = ""


def run_wrk(port: int, path: str, cookies: dict[str, str], connections: int, seconds: float) -> Run:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    command = [
        "wrk",
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{path}",
        "--",
        cookie,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    errors = sum(
        data[key]
        for key in ("connect_errors", "read_errors", "write_errors", "timeouts", "status_errors")
    )
    # wrk does not count redirects as errors: a lost session would be a fast 302 to the login.
    status = request(port, "GET", path, dict(cookies))[0]
    requests = max(data["requests"], 1)
    return Run(
        rate=(data["requests"] - errors) / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        kb=data["bytes"] / requests / 1024,
        errors=errors,
        note="" if status == 200 else f"answered {status} after the run",
    )


# --- main ---------------------------------------------------------------------------------------


def _terminate(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per run (default 10)")
    parser.add_argument(
        "--connections", default="1,4", help="wrk connections, comma-separated (default 1,4)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of test-client renders"
    )
    args = parser.parse_args()
    connection_counts = sorted({int(x) for x in args.connections.split(",") if x.strip()})
    if not connection_counts or connection_counts[0] < 1:
        raise SystemExit("--connections needs positive integers")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    signal.signal(signal.SIGTERM, _terminate)  # so that the servers are stopped on the way out
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    RESULTS.mkdir(parents=True, exist_ok=True)

    fresh_database()
    flush_redis(REDIS_URL)
    setup_django()
    account = trader_with_book(email=TRADER_EMAIL, password=TRADER_PASSWORD)
    from trading.selectors import open_positions

    symbols = [p.instrument.symbol for p in open_positions(account)]
    from django.db import connection

    connection.close()
    print(
        f"pages benchmark on {DATABASE_URL} (setup {time.perf_counter() - started:.0f} s); "
        f"{args.seconds:g} s per run; one daphne process per variant; load average "
        f"{load_at_start[0]:.1f} / {load_at_start[1]:.1f} / {load_at_start[2]:.1f} (1/5/15 min) "
        f"at the start on {os.cpu_count()} CPUs",
        flush=True,
    )
    print(f"trader {TRADER_EMAIL}: {len(symbols)} open positions; orders: {book_summary(account)}")

    real = prerendered = None
    runs: dict[tuple[str, int], tuple[Run, Run]] = {}
    try:
        captured = RESULTS / "pages_captured.json"
        real_port = free_port()
        real_log = RESULTS / "pages_daphne_real.log"
        real = start_daphne(real_port, "config.settings", real_log, captured)
        wait_until_serving(real_port, "/health", real, real_log)
        cookies = login(real_port)
        capture(real_port, cookies, symbols)
        pre_port = free_port()
        pre_log = RESULTS / "pages_daphne_prerendered.log"
        prerendered = start_daphne(pre_port, "bench.pages_settings", pre_log, captured)
        # no /health there: the pre-rendered URLconf has only the benchmarked pages
        wait_until_serving(pre_port, "/", prerendered, pre_log)
        local = in_process(cookies, args.profile)
        connection.close()
        load_before = os.getloadavg()[0]
        for port in (real_port, pre_port):  # warm-up, not reported
            for path in PAGES.values():
                run_wrk(port, path, cookies, connection_counts[-1], 2.0)
        for connections in connection_counts:
            for name, path in PAGES.items():
                runs[name, connections] = (
                    run_wrk(real_port, path, cookies, connections, args.seconds),
                    run_wrk(pre_port, path, cookies, connections, args.seconds),
                )
                print(f"  measured {name} at {connections} connections", flush=True)
    finally:
        stop_process(real)
        stop_process(prerendered)
    load_after = os.getloadavg()[0]
    report(runs, local, load_before, load_after)
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s")


def report(runs: dict, local: dict[str, InProcess], load_before: float, load_after: float) -> None:
    print()
    print("in this process (test client, same session): queries and median time of one render")
    for name, path in PAGES.items():
        item = local[name]
        print(
            f"  {name:<9} {path:<16} {item.queries:>3} queries  {item.render_ms:>6.1f} ms  "
            f"{item.size / 1024:>6.1f} KB"
        )
    header = (
        f"{'page':<9} {'conns':>5} | {'real rps':>8} {'p50 ms':>7} {'p99 ms':>7} {'err':>3} | "
        f"{'pre rps':>8} {'p50 ms':>7} {'p99 ms':>7} {'err':>3} | {'ratio':>6} | goal"
    )
    print(f"\nload average {load_before:.1f} before the runs, {load_after:.1f} after")
    print(header)
    print("-" * len(header))
    notes = []
    verdicts = []
    for (name, connections), (a, b) in runs.items():
        ratio = a.rate / b.rate if b.rate else float("nan")
        ratio_ok, p50_ok = ratio >= GOAL_RATIO, a.p50_ms < GOAL_P50_MS
        verdict = f"{'met' if ratio_ok else 'MISSED'} ratio, {'met' if p50_ok else 'MISSED'} p50"
        verdicts.append(ratio_ok and p50_ok)
        print(
            f"{name:<9} {connections:>5} | {a.rate:>8.1f} {a.p50_ms:>7.1f} {a.p99_ms:>7.1f} "
            f"{a.errors:>3} | {b.rate:>8.1f} {b.p50_ms:>7.1f} {b.p99_ms:>7.1f} {b.errors:>3} | "
            f"{ratio:>5.2f}x | {verdict}"
        )
        for label, item in (("real", a), ("pre-rendered", b)):
            if item.note:
                notes.append(f"  {name} {connections} {label}: {item.note}")
    print(
        "(rps: 2xx/3xx answers per second from wrk; p50/p99 from wrk's latency histogram; err: "
        "socket errors, timeouts and statuses >= 400; ratio: real rps / pre-rendered rps)"
    )
    if notes:
        print("notes:")
        print("\n".join(notes))
    print(
        f"goal: real >= {GOAL_RATIO} x pre-rendered rps and p50 < {GOAL_P50_MS:g} ms -> "
        f"{'met' if all(verdicts) else 'MISSED'} ({sum(verdicts)} of {len(verdicts)} rows met)"
    )


if __name__ == "__main__":
    main()
