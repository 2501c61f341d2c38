"""Tournament streams: group names and the `standings` frame (publisher and sockets agree)."""

from decimal import Decimal

from tournaments.models import Standing, Tournament

# Rows carried by a `standings` frame; the page and the API page through the rest.
STANDINGS_TOP_N = 50


def tournament_group(tournament_id: int) -> str:
    return f"tournament.{tournament_id}"


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def standing_row(standing: Standing) -> dict:
    """One leaderboard row (API and stream share the shape). Needs participant__user loaded."""
    participant = standing.participant
    return {
        "rank": standing.rank,
        "position": standing.position,
        "display_name": participant.user.display_name,
        "equity": _dec(standing.equity),
        "pnl": _dec(standing.pnl),
        "return_pct": _dec(standing.return_pct),
        "trades": standing.trades,
        "win_rate": _dec(standing.win_rate),
        "max_drawdown": _dec(standing.max_drawdown),
        "is_bot": participant.is_bot,
        "disqualified": participant.disqualified_at is not None,
    }


def standings_frame(tournament: Tournament, rows: list[Standing]) -> dict:
    """The `standings` message: the top rows and when they were computed."""
    return {
        "type": "standings",
        "tournament": tournament.pk,
        "status": tournament.status,
        "computed_at": _iso(tournament.standings_computed_at),
        "is_final": tournament.status == "finished",
        "rows": [standing_row(row) for row in rows],
    }
