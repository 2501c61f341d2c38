"""Demo tournament for the embedded run: `manage.py seed` calls `seed_tournaments` last.

A running public "Weekly Crypto Cup" (started an hour ago, ends in 7 days) with prizes and
eight bot participants. Idempotent: an existing tournament is kept, missing bots are entered.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from market.models import Instrument
from tournaments.models import Participant, Prize, Tournament, TournamentStatus
from tournaments.services import tournament_join, tournament_publish, tournament_start

SLUG = "weekly-crypto-cup"
SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "SPY"]
BOTS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
PRIZES = [(1, 1, "1000.00", "Champion"), (2, 2, "500.00", "Runner-up"), (3, 5, "100.00", "")]


def _bot_user(name: str) -> User:
    user = User.objects.filter(email=f"bot-{name}@papertrade.local").first()
    if user is None:
        user = User(email=f"bot-{name}@papertrade.local", display_name=f"bot-{name}")
        user.set_unusable_password()
        user.save()
    return user


def seed_tournaments(stdout) -> None:
    now = timezone.now()
    tournament = Tournament.objects.filter(slug=SLUG).first()
    if tournament is None:
        tournament = Tournament.objects.create(
            name="Weekly Crypto Cup",
            slug=SLUG,
            description="A week of crypto (and the S&P 500 ETF in market hours). Everyone "
            "starts with 10,000; the best return wins. Leverage up to 5x, shorting allowed.",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=7),
            starting_balance=Decimal("10000.00"),
            max_leverage=Decimal("5"),
            allow_short=True,
            commission_rate=Decimal("0.0005"),
            min_commission=Decimal("0.01"),
            max_position_share=Decimal("2.5"),
            bots_allowed=True,
        )
        tournament.allowed_instruments.set(Instrument.objects.filter(symbol__in=SYMBOLS))
        for rank_from, rank_to, amount, description in PRIZES:
            Prize.objects.create(
                tournament=tournament,
                rank_from=rank_from,
                rank_to=rank_to,
                amount=Decimal(amount),
                description=description,
            )
        tournament_publish(tournament=tournament, now=now)
        tournament_start(tournament=tournament, now=now)
        state = ""
    else:
        state = " (exists)"
    tournament.refresh_from_db()
    joined = 0
    if tournament.status in (TournamentStatus.UPCOMING, TournamentStatus.RUNNING):
        for name in BOTS:
            user = _bot_user(name)
            if not Participant.objects.filter(tournament=tournament, user=user).exists():
                tournament_join(tournament=tournament, user=user, is_bot=True, now=now)
                joined += 1
    stdout.write(
        f"  tournament     {tournament.name} ({tournament.status}){state}, {joined} bot(s) entered"
    )
