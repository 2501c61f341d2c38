"""The leaderboard's one set-based statement (a service module of its own, like the matcher).

For every participant of one tournament, in one INSERT ... SELECT ... ON CONFLICT:

- equity  = cash balance (the cached ledger balance of the account's cash account)
            + sum over open positions of qty * (mark - avg_price), mark = bid for longs and
            ask for shorts (market_quote), rounded to cents;
- pnl     = equity - the account's initial balance (the tournament's starting balance);
- return_pct = pnl / initial balance * 100, to 4 decimals;
- trades  = number of fills; win_rate = fills with realised P&L > 0 / fills with realised
            P&L <> 0 * 100 (NULL while no fill has realised anything);
- max_drawdown = largest (peak - equity) / peak * 100 along the equity series: the stored
            running peak, trading EquitySnapshot rows newer than the previous recompute, and
            the equity of now. The running peak is a window MAX over that series, so each
            recompute only reads the snapshots it has not seen (incremental), and a dip seen
            by any recompute is never forgotten (the stored max_drawdown is kept if larger);
- rank    = RANK() OVER (ORDER BY return DESC) among participants not disqualified: equal
            returns share a rank (1, 1, 3). Disqualified participants get no rank and are
            listed after everyone else;
- position = display order: qualified first, by return, then earlier `joined_at`, then id.

Rows frozen by the final recompute (`is_final`) are never changed again, and rows whose
values did not change are not rewritten (the ON CONFLICT ... WHERE clause), which keeps the
statement cheap when most participants are flat.

One SQL text serves PostgreSQL and SQLite (both have window functions and upsert); the few
vendor differences are substituted into it (`SQL_VENDOR`).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

SQL_VENDOR = {
    "postgresql": {
        "num": "NUMERIC",
        "ts": "CAST(%s AS timestamp with time zone)",
        "greatest": "GREATEST",
        "distinct": "IS DISTINCT FROM",
        # New snapshots, one index range scan (account_id, ts) per account: the LATERAL with
        # OFFSET 0 keeps the planner from turning it into a scan of the whole table.
        "snapshots": """SELECT parts.account_id, 1, s.ts, s.equity
    FROM parts CROSS JOIN LATERAL (
        SELECT s.ts, s.equity FROM trading_equitysnapshot s
        WHERE s.account_id = parts.account_id AND (%s IS NULL OR s.ts > %s) OFFSET 0
    ) s""",
    },
    # SQLite stores decimals as REAL or INTEGER: CAST keeps divisions from being integer ones.
    "sqlite": {
        "num": "REAL",
        "ts": "%s",
        "greatest": "MAX",
        "distinct": "IS NOT",
        "snapshots": """SELECT s.account_id, 1, s.ts, s.equity
    FROM trading_equitysnapshot s JOIN parts ON parts.account_id = s.account_id
    WHERE %s IS NULL OR s.ts > %s""",
    },
}

# The equity CTE and the ranking, shared by the statement and the benchmark's bare query.
# Parameters, in order: tournament id, previous recompute time (or NULL), now.
RANKED_CTE = """
WITH parts AS (
    SELECT p.id AS participant_id, p.tournament_id, p.account_id, p.joined_at,
           CASE WHEN p.disqualified_at IS NULL THEN 0 ELSE 1 END AS dq,
           a.initial_balance AS base, l.balance AS cash
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
fills AS (
    SELECT f.account_id, COUNT(*) AS trades,
           SUM(CASE WHEN f.realized_pnl > 0 THEN 1 ELSE 0 END) AS wins,
           SUM(CASE WHEN f.realized_pnl <> 0 THEN 1 ELSE 0 END) AS decided
    FROM trading_fill f
    JOIN parts ON parts.account_id = f.account_id
    GROUP BY f.account_id
),
equities AS (
    SELECT parts.participant_id, parts.account_id, parts.joined_at, parts.dq, parts.base,
           ROUND(parts.cash + COALESCE(upnl.amount, 0), 2) AS equity,
           COALESCE(fills.trades, 0) AS trades, fills.wins, fills.decided,
           old.peak_equity AS old_peak, old.max_drawdown AS old_drawdown
    FROM parts
    LEFT JOIN upnl ON upnl.account_id = parts.account_id
    LEFT JOIN fills ON fills.account_id = parts.account_id
    LEFT JOIN tournaments_standing old
        ON old.participant_id = parts.participant_id AND old.tournament_id = parts.tournament_id
),
series AS (
    SELECT account_id, 0 AS seq, joined_at AS ts, COALESCE(old_peak, base) AS equity
    FROM equities
    UNION ALL
    {snapshots}
    UNION ALL
    SELECT account_id, 2, {ts}, equity FROM equities
),
peaks AS (
    SELECT account_id, equity,
           MAX(equity) OVER (PARTITION BY account_id ORDER BY seq, ts
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak
    FROM series
),
drawdowns AS (
    SELECT account_id, MAX(peak) AS peak,
           MAX(CASE WHEN peak > 0 THEN CAST(peak - equity AS {num}) * 100 / peak ELSE 0 END)
               AS drawdown
    FROM peaks
    GROUP BY account_id
),
ranked AS (
    SELECT e.participant_id, e.equity, e.equity - e.base AS pnl,
           ROUND(CAST(e.equity - e.base AS {num}) * 100 / e.base, 4) AS return_pct,
           e.trades,
           CASE WHEN e.decided > 0 THEN ROUND(CAST(e.wins AS {num}) * 100 / e.decided, 4) END
               AS win_rate,
           ROUND({greatest}(COALESCE(d.drawdown, 0), COALESCE(e.old_drawdown, 0)), 4)
               AS max_drawdown,
           d.peak AS peak_equity,
           CASE WHEN e.dq = 0 THEN RANK() OVER (
               PARTITION BY e.dq ORDER BY CAST(e.equity - e.base AS {num}) / e.base DESC
           ) END AS rank,
           ROW_NUMBER() OVER (
               ORDER BY e.dq, CAST(e.equity - e.base AS {num}) / e.base DESC,
                        e.joined_at, e.participant_id
           ) AS position
    FROM equities e
    LEFT JOIN drawdowns d ON d.account_id = e.account_id
)
"""

UPSERT = """
INSERT INTO tournaments_standing (
    participant_id, tournament_id, rank, position, equity, pnl, return_pct, trades, win_rate,
    max_drawdown, peak_equity, computed_at, is_final
)
SELECT participant_id, %s, rank, position, equity, pnl, return_pct, trades, win_rate,
       max_drawdown, peak_equity, {ts}, %s
FROM ranked
WHERE 1 = 1
ON CONFLICT (participant_id) DO UPDATE SET
    rank = excluded.rank, position = excluded.position, equity = excluded.equity,
    pnl = excluded.pnl, return_pct = excluded.return_pct, trades = excluded.trades,
    win_rate = excluded.win_rate, max_drawdown = excluded.max_drawdown,
    peak_equity = excluded.peak_equity, computed_at = excluded.computed_at,
    is_final = excluded.is_final
WHERE tournaments_standing.is_final = %s
  AND (tournaments_standing.rank, tournaments_standing.position, tournaments_standing.equity,
       tournaments_standing.trades, tournaments_standing.win_rate,
       tournaments_standing.max_drawdown, tournaments_standing.is_final)
      {distinct}
      (excluded.rank, excluded.position, excluded.equity, excluded.trades, excluded.win_rate,
       excluded.max_drawdown, excluded.is_final)
"""
# (The WHERE 1 = 1 keeps SQLite from reading ON CONFLICT as part of a join.)


def _vendor() -> dict[str, str]:
    try:
        return SQL_VENDOR[connection.vendor]
    except KeyError:
        raise ImproperlyConfigured(
            f"standings need PostgreSQL or SQLite, not {connection.vendor}"
        ) from None


def _ts(value: datetime | None):
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def ranked_cte_sql() -> str:
    return RANKED_CTE.format(**_vendor())


def ranked_cte_params(*, tournament_id: int, since: datetime | None, now: datetime) -> list[object]:
    return [tournament_id, _ts(since), _ts(since), _ts(now)]


def standings_upsert(
    *, tournament_id: int, since: datetime | None, now: datetime, final: bool
) -> int:
    """Run the statement; returns the number of standing rows inserted or changed.

    SINCE is the previous recompute (snapshots up to it are already in the stored peak and
    drawdown; None reads them all). The caller owns the transaction and the locks.
    """
    sql = ranked_cte_sql() + UPSERT.format(**_vendor())
    params = [
        *ranked_cte_params(tournament_id=tournament_id, since=since, now=now),
        tournament_id,
        _ts(now),
        final,
        False,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The CTEs' row estimates are far too high, which would make PostgreSQL spend
            # seconds JIT-compiling a statement that runs in milliseconds (transaction-local).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)
