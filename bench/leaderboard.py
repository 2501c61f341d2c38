"""Benchmark: the leaderboard recompute for 1,000, 10,000 and 100,000 participants.

Run: `.venv/bin/python -m bench.leaderboard`. Uses a throwaway PostgreSQL database
(BENCH_LB_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/pt_bench_lb), dropped,
recreated and migrated by the script, then bulk-seeded with SQL (generate_series): per
participant a user, a cash account, a trading account, two open positions, one order with four
fills and six equity snapshots.

For each size, side by side in the same run:
  naive    a per-participant Python loop (account_state + fills + snapshots, then sort and one
           UPDATE per row); above 1,000 participants it runs on a sample of 1,000 and is
           extrapolated (the full loop would take minutes at 10,000, far more at 100,000);
  bare     the bare SQL: the equity CTE plus RANK(), computed on the server, timed alone;
  service  `standings_recompute` (lock, the one INSERT ... ON CONFLICT statement with trades,
           win rate and drawdown, the top-50 read and the after-commit publish). The first run
           inserts every row ("cold"); the steady runs move every quote first, so nearly every
           participant's equity changes and its row is rewritten;
  top 100  `selectors.leaderboard(tournament, 100)`.
Medians of several runs. Goal: service within 1.5x of bare, ~100 ms at 10,000, < 2 s at
100,000; top 100 under 5 ms. Prints a table; asserts nothing.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

from bench.common import recreate_database

DATABASE_URL = os.environ.get(
    "BENCH_LB_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pt_bench_lb"
)
SIZES = (1_000, 10_000, 100_000)
NAIVE_FULL_MAX = 1_000  # above this, the naive loop runs on a sample and is extrapolated
NAIVE_SAMPLE = 1_000
RUNS = {1_000: 7, 10_000: 5, 100_000: 3}
SYMBOLS = ("LB-A", "LB-B", "LB-C", "LB-D")

BARE_SQL = """
WITH parts AS (
    SELECT p.id AS participant_id, p.account_id, a.initial_balance AS base, l.balance AS cash
    FROM tournaments_participant p
    JOIN trading_tradingaccount a ON a.id = p.account_id
    JOIN ledger_ledgeraccount l ON l.id = a.cash_account_id
    WHERE p.tournament_id = %s
),
upnl AS (
    SELECT pos.account_id,
           SUM(pos.quantity * ((CASE WHEN pos.quantity >= 0 THEN q.bid ELSE q.ask END)
                               - pos.avg_price)) AS amount
    FROM trading_position pos
    JOIN parts ON parts.account_id = pos.account_id
    JOIN market_quote q ON q.instrument_id = pos.instrument_id
    WHERE pos.closed_at IS NULL
    GROUP BY pos.account_id
),
equities AS (
    SELECT parts.participant_id, parts.base,
           ROUND(parts.cash + COALESCE(upnl.amount, 0), 2) AS equity
    FROM parts LEFT JOIN upnl ON upnl.account_id = parts.account_id
)
SELECT COUNT(*), MAX(rank) FROM (
    SELECT participant_id, RANK() OVER (ORDER BY (equity - base) / base DESC) AS rank
    FROM equities
) ranked
"""


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = ""  # in-memory channel layer: publishing costs next to nothing
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CONN_MAX_AGE"] = "600"
    recreate_database(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _instruments() -> list[int]:
    from market.tests.factories import InstrumentFactory, QuoteFactory

    ids = []
    for n, symbol in enumerate(SYMBOLS):
        instrument = InstrumentFactory(symbol=symbol, max_leverage=Decimal("10"))
        price = Decimal(100 * (n + 1))
        QuoteFactory(instrument=instrument, bid=price, ask=price + Decimal("0.02"), last=price)
        ids.append(instrument.pk)
    return ids


def _seed(size: int, instrument_ids: list[int]):
    """One running tournament of SIZE participants, all rows inserted by set-based SQL."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tournaments.models import Tournament

    now = timezone.now()
    tournament = Tournament.objects.create(
        name=f"Bench {size}",
        slug=f"bench-{size}",
        status="running",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=6),
    )
    tag = f"lb{size}"
    a, b, c, d = instrument_ids
    statements = [
        # users
        f"""INSERT INTO accounts_user (password, is_superuser, email, display_name, date_joined,
                is_active, is_staff)
            SELECT '!', false, '{tag}-' || g || '@bench.local', '{tag}-' || g, now(), true, false
            FROM generate_series(1, {size}) g""",
        # cash accounts: 10,000 moved by -500 .. +500
        f"""INSERT INTO ledger_ledgeraccount (code, kind, name, currency, balance, owner_id,
                created_at)
            SELECT 'cash:{tag}-' || u.id, 'cash', u.email, 'USD',
                   10000 + round((random() * 1000 - 500)::numeric, 2), u.id, now()
            FROM accounts_user u WHERE u.email LIKE '{tag}-%'""",
        f"""INSERT INTO trading_tradingaccount (owner_id, name, currency, cash_account_id,
                initial_balance, max_leverage, is_default, is_archived, realized_pnl, event_seq,
                created_at)
            SELECT l.owner_id, 'Bench', 'USD', l.id, 10000, 5, false, false, 0, 0, now()
            FROM ledger_ledgeraccount l WHERE l.code LIKE 'cash:{tag}-%'""",
        f"""INSERT INTO tournaments_participant (tournament_id, user_id, account_id, is_bot,
                joined_at, disqualification_reason)
            SELECT {tournament.pk}, a.owner_id, a.id, false, now() - interval '1 day', ''
            FROM trading_tradingaccount a
            JOIN ledger_ledgeraccount l ON l.id = a.cash_account_id
            WHERE l.code LIKE 'cash:{tag}-%'""",
        # two open positions each: a long and a short, in alternating instruments
        f"""INSERT INTO trading_position (account_id, instrument_id, quantity, avg_price,
                realized_pnl, opened_at, updated_at)
            SELECT p.account_id, CASE WHEN p.id % 2 = 0 THEN {a} ELSE {b} END,
                   round((random() * 10 + 1)::numeric, 3), 100, 0, now(), now()
            FROM tournaments_participant p WHERE p.tournament_id = {tournament.pk}
            UNION ALL
            SELECT p.account_id, CASE WHEN p.id % 2 = 0 THEN {c} ELSE {d} END,
                   -round((random() * 5 + 1)::numeric, 3), 300, 0, now(), now()
            FROM tournaments_participant p WHERE p.tournament_id = {tournament.pk}""",
        f"""INSERT INTO trading_order (account_id, instrument_id, side, type, time_in_force,
                quantity, filled_quantity, status, reject_reason, leg_role, reduce_only, source,
                commission, created_at, updated_at)
            SELECT p.account_id, {a}, 'buy', 'market', 'gtc', 5, 5, 'filled', '', '', false,
                   'web', 0.05, now(), now()
            FROM tournaments_participant p WHERE p.tournament_id = {tournament.pk}""",
        f"""INSERT INTO trading_fill (order_id, account_id, instrument_id, side, quantity, price,
                commission, realized_pnl, is_liquidation, created_at)
            SELECT o.id, o.account_id, o.instrument_id, 'buy', 1, 100, 0.01,
                   CASE WHEN g = 1 THEN 0 ELSE round((random() * 40 - 20)::numeric, 2) END,
                   false, now() - g * interval '1 minute'
            FROM trading_order o
            JOIN tournaments_participant p ON p.account_id = o.account_id
            CROSS JOIN generate_series(1, 4) g
            WHERE p.tournament_id = {tournament.pk}""",
        f"""INSERT INTO trading_equitysnapshot (account_id, ts, balance, equity)
            SELECT p.account_id, now() - g * interval '1 hour', 10000,
                   10000 + round((random() * 1200 - 600)::numeric, 2)
            FROM tournaments_participant p
            CROSS JOIN generate_series(1, 6) g
            WHERE p.tournament_id = {tournament.pk}""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        for sql in statements:
            cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return tournament


def _move_quotes(step: int) -> None:
    from django.db import connection

    factor = Decimal("1.001") if step % 2 else Decimal("0.999")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE market_quote SET bid = round(bid * %s, 2), ask = round(ask * %s, 2)",
            [factor, factor],
        )


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def _naive(tournament, limit: int | None = None) -> None:
    """What one would write without set-based SQL: one participant at a time (the first
    LIMIT participants only, to extrapolate from a sample)."""
    from django.db import transaction

    from tournaments.models import Participant, Standing
    from trading.models import EquitySnapshot, Fill
    from trading.selectors import account_state

    rows = []
    participants = Participant.objects.filter(tournament=tournament).select_related(
        "account__cash_account", "account__rules"
    )[:limit]
    for participant in participants:
        account = participant.account
        equity = account_state(account).equity.quantize(Decimal("0.01"))
        fills = list(Fill.objects.filter(account=account).values_list("realized_pnl", flat=True))
        decided = [value for value in fills if value != 0]
        win_rate = (
            Decimal(sum(1 for v in decided if v > 0)) * 100 / len(decided) if decided else None
        )
        peak, drawdown = account.initial_balance, Decimal(0)
        series = EquitySnapshot.objects.filter(account=account).order_by("ts")
        for value in [*series.values_list("equity", flat=True), equity]:
            peak = max(peak, value)
            if peak > 0:
                drawdown = max(drawdown, (peak - value) * 100 / peak)
        pnl = equity - account.initial_balance
        rows.append((participant, equity, pnl, pnl * 100 / account.initial_balance, len(fills),
                     win_rate, drawdown))  # fmt: skip
    rows.sort(key=lambda row: (-row[3], row[0].joined_at, row[0].pk))
    with transaction.atomic():
        rank, previous = 0, None
        for position, (participant, equity, pnl, ret, trades, win, dd) in enumerate(rows, 1):
            if ret != previous:
                rank, previous = position, ret
            Standing.objects.update_or_create(
                participant=participant,
                defaults={
                    "tournament": tournament, "rank": rank, "position": position,
                    "equity": equity, "pnl": pnl, "return_pct": ret.quantize(Decimal("0.0001")),
                    "trades": trades,
                    "win_rate": None if win is None else win.quantize(Decimal("0.0001")),
                    "max_drawdown": dd.quantize(Decimal("0.0001")),
                    "computed_at": tournament.starts_at,
                },
            )  # fmt: skip


def _bare(tournament) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BARE_SQL, [tournament.pk])
        cursor.fetchone()


def _ms(seconds: float | None) -> str:
    return "skipped" if seconds is None else f"{seconds * 1000:,.1f} ms"


def main() -> int:
    _setup_django()
    from django.db import connection

    from tournaments import selectors
    from tournaments.models import Standing
    from tournaments.services import standings_recompute

    with connection.cursor() as cursor:
        # The service turns JIT off for its statement (see tournaments.standings); the bare
        # statement gets the same treatment so that the comparison is fair.
        cursor.execute("SET jit = off")
    instrument_ids = _instruments()
    results = []
    for size in SIZES:
        started = time.perf_counter()
        tournament = _seed(size, instrument_ids)
        print(f"seeded {size:,} participants in {time.perf_counter() - started:.1f} s", flush=True)

        if size <= NAIVE_FULL_MAX:
            naive, estimated = _timed(lambda t=tournament: _naive(t)), False
        else:
            sample = _timed(lambda t=tournament: _naive(t, NAIVE_SAMPLE))
            naive, estimated = sample * size / NAIVE_SAMPLE, True
        Standing.objects.filter(tournament=tournament).delete()
        cold = _timed(lambda t=tournament: standings_recompute(tournament=t))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tournaments_standing")
        bare_runs, service_runs = [], []
        for step in range(RUNS[size]):
            _move_quotes(step)
            bare_runs.append(_timed(lambda t=tournament: _bare(t)))
            service_runs.append(_timed(lambda t=tournament: standings_recompute(tournament=t)))
        top = [_timed(lambda t=tournament: selectors.leaderboard(t, 100)) for _ in range(50)]
        results.append(
            {
                "size": size,
                "naive": naive,
                "estimated": estimated,
                "bare": statistics.median(bare_runs),
                "cold": cold,
                "service": statistics.median(service_runs),
                "top": statistics.median(top),
            }
        )
        print(f"  done {size:,}", flush=True)

    print()
    header = (
        f"{'participants':>12} | {'naive loop':>12} | {'bare SQL':>10} | {'service cold':>12} |"
        f" {'service':>10} | {'service/bare':>12} | {'naive/service':>13} | {'top 100':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in results:
        naive_ratio = f"{row['naive'] / row['service']:.0f}x"
        naive_text = ("~" if row["estimated"] else "") + _ms(row["naive"])
        print(
            f"{row['size']:>12,} | {naive_text:>12} | {_ms(row['bare']):>10} |"
            f" {_ms(row['cold']):>12} | {_ms(row['service']):>10} |"
            f" {row['service'] / row['bare']:>11.2f}x | {naive_ratio:>13} |"
            f" {_ms(row['top']):>8}"
        )
    print()
    print(
        f"~ naive loop above {NAIVE_FULL_MAX:,} participants: timed on {NAIVE_SAMPLE:,} of them"
        " and extrapolated (the full loop takes minutes at 10,000 and far longer at 100,000)."
    )
    print(
        "service = standings_recompute: the whole statement (equity, trades, win rate,"
        " incremental drawdown, RANK, upsert of changed rows) + top-50 read + publish."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
