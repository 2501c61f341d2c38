"""The leaderboard statement against a hand-computed example, ties and freezing included."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ledger.models import HOUSE_TRADING_PNL, JournalKind
from ledger.services import house_account, journal_post
from market.models import Quote
from tournaments.models import Standing, TournamentStatus
from tournaments.services import (
    participant_disqualify,
    standings_recompute,
    tournament_finish,
    tournament_join,
)
from tournaments.standings import standings_upsert
from tournaments.tests.factories import make_tournament
from trading.models import EquitySnapshot, Fill, Order, Position

pytestmark = pytest.mark.django_db


def _cash(participant, amount: str) -> None:
    journal_post(
        kind=JournalKind.TRADE_PNL,
        lines=[
            (participant.account.cash_account, Decimal(amount)),
            (house_account(HOUSE_TRADING_PNL), -Decimal(amount)),
        ],
    )


def _position(participant, instrument, qty: str, avg: str) -> None:
    Position.objects.create(
        account=participant.account,
        instrument=instrument,
        quantity=Decimal(qty),
        avg_price=Decimal(avg),
    )


def _fills(participant, instrument, *realized: str) -> None:
    order = Order.objects.create(
        account=participant.account,
        instrument=instrument,
        side="buy",
        type="market",
        quantity=Decimal("100"),
        status="filled",
        filled_quantity=Decimal("100"),
    )
    for value in realized:
        Fill.objects.create(
            order=order,
            account=participant.account,
            instrument=instrument,
            side="buy",
            quantity=Decimal("1"),
            price=Decimal("100"),
            commission=Decimal("0.01"),
            realized_pnl=Decimal(value),
        )


def _snapshots(participant, start, *equities: str) -> None:
    for minutes, equity in enumerate(equities, start=1):
        EquitySnapshot.objects.create(
            account=participant.account,
            ts=start + timedelta(minutes=minutes),
            balance=Decimal(equity),
            equity=Decimal(equity),
        )


@pytest.fixture
def example(market):
    """Five entrants; quote bid 110 / ask 112. Hand-computed:

    alice  cash 10500, long 10 @ 100 (mark bid 110: +100)    equity 10600.00  +6.0000 %
    carol  cash 10600, flat                                  equity 10600.00  +6.0000 % (tie)
    bob    cash 10000, short 5 @ 120 (mark ask 112: +40)     equity 10040.00  +0.4000 %
    dave   cash 9749.50, flat                                equity  9749.50  -2.5050 %
    erin   cash 15000, disqualified                          no rank, listed last
    """
    Quote.objects.filter(instrument=market).update(bid=Decimal("110"), ask=Decimal("112"))
    now = timezone.now()
    tournament = make_tournament(starts_at=now - timedelta(hours=2))
    base = now - timedelta(hours=1)
    people = {}
    for offset, name in enumerate(["alice", "carol", "bob", "dave", "erin"]):
        user = UserFactory(email=f"{name}@example.com", display_name=name)
        people[name] = tournament_join(
            tournament=tournament, user=user, now=base + timedelta(seconds=offset)
        )
    _cash(people["alice"], "500.00")
    _position(people["alice"], market, "10", "100")
    _fills(people["alice"], market, "0", "50.00", "-20.00")
    _snapshots(people["alice"], base, "9500.00", "10100.00")
    _cash(people["carol"], "600.00")
    _position(people["bob"], market, "-5", "120")
    _fills(people["bob"], market, "0")
    _cash(people["dave"], "-250.50")
    _snapshots(people["dave"], base, "10000.00", "10200.00", "9900.00")
    _cash(people["erin"], "5000.00")
    participant_disqualify(participant=people["erin"], reason="wash trading", operator=None)
    return tournament, people


def _row(participant) -> Standing:
    return Standing.objects.get(participant=participant)


def test_it_ranks_by_return_with_ties_sharing_a_rank(example):
    tournament, _ = example

    standings_recompute(tournament=tournament)

    table = [
        (s.participant.user.display_name, s.rank, s.position, s.equity, s.pnl, s.return_pct)
        for s in Standing.objects.filter(tournament=tournament).order_by("position")
    ]
    assert table == [
        ("alice", 1, 1, Decimal("10600.00"), Decimal("600.00"), Decimal("6.0000")),
        ("carol", 1, 2, Decimal("10600.00"), Decimal("600.00"), Decimal("6.0000")),
        ("bob", 3, 3, Decimal("10040.00"), Decimal("40.00"), Decimal("0.4000")),
        ("dave", 4, 4, Decimal("9749.50"), Decimal("-250.50"), Decimal("-2.5050")),
        ("erin", None, 5, Decimal("15000.00"), Decimal("5000.00"), Decimal("50.0000")),
    ]


def test_it_counts_trades_and_win_rate_from_fills(example):
    tournament, people = example

    standings_recompute(tournament=tournament)

    alice, bob, carol = (_row(people[n]) for n in ("alice", "bob", "carol"))
    assert (alice.trades, alice.win_rate) == (3, Decimal("50.0000"))
    assert (bob.trades, bob.win_rate) == (1, None)
    assert (carol.trades, carol.win_rate) == (0, None)


def test_max_drawdown_follows_the_running_peak_of_snapshots_and_now(example):
    tournament, people = example

    standings_recompute(tournament=tournament)

    # alice: 10000 -> 9500 (5 %) -> 10100 -> 10600 now.
    assert _row(people["alice"]).max_drawdown == Decimal("5.0000")
    # dave: peak 10200, now 9749.50: 450.50 / 10200 = 4.41666... %
    assert _row(people["dave"]).max_drawdown == Decimal("4.4167")
    assert _row(people["dave"]).peak_equity == Decimal("10200.00")
    assert _row(people["carol"]).max_drawdown == Decimal("0.0000")


def test_a_dip_seen_by_one_recompute_is_kept_by_the_next(example, market):
    tournament, people = example
    standings_recompute(tournament=tournament)
    # The quote falls: alice's long is worth 10 * (90 - 100) = -100, equity 10400 from 10600.
    Quote.objects.filter(instrument=market).update(bid=Decimal("90"), ask=Decimal("92"))
    standings_recompute(tournament=tournament)
    Quote.objects.filter(instrument=market).update(bid=Decimal("110"), ask=Decimal("112"))
    standings_recompute(tournament=tournament)

    alice = _row(people["alice"])
    # 200 / 10600 = 1.8868 % is less than the earlier 5 %: the larger drawdown stands.
    assert alice.max_drawdown == Decimal("5.0000")
    assert alice.peak_equity == Decimal("10600.00")
    assert alice.equity == Decimal("10600.00")


def test_final_standings_are_frozen(example, market):
    tournament, people = example
    tournament_finish(tournament=tournament)
    frozen = list(Standing.objects.filter(tournament=tournament).values().order_by("position"))
    assert all(row["is_final"] for row in frozen)

    Quote.objects.filter(instrument=market).update(bid=Decimal("50"), ask=Decimal("52"))
    assert standings_recompute(tournament=tournament) == 0
    # Even the bare statement cannot change a final row.
    standings_upsert(tournament_id=tournament.pk, since=None, now=timezone.now(), final=False)

    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.FINISHED
    assert list(Standing.objects.filter(tournament=tournament).values().order_by("position")) == (
        frozen
    )
    assert _row(people["alice"]).equity == Decimal("10600.00")


def test_positions_are_valued_not_closed_at_the_end(example):
    tournament, people = example

    tournament_finish(tournament=tournament)

    position = Position.objects.get(account=people["alice"].account)
    assert position.closed_at is None
    assert position.quantity == Decimal("10")
    assert _row(people["alice"]).equity == Decimal("10600.00")
