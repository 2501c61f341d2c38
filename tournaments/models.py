"""Tournaments, their participants, live standings, prizes and the prizes paid.

A participant trades through a dedicated trading account whose `TradingRules` carry the
tournament's rules (source="tournament", source_id=<tournament id>); trading enforces them
without knowing what a tournament is. Standings are recomputed by one set-based statement
(tournaments.standings) and frozen (`is_final`) when the tournament ends.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from market.models import Instrument
from trading.models import TradingAccount

MONEY = {"max_digits": 20, "decimal_places": 2}
# Percentages (return, win rate, drawdown) to 4 decimals: 12.3456 means 12.3456 %.
PERCENT = {"max_digits": 12, "decimal_places": 4}
RULES_SOURCE = "tournament"


class TournamentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    UPCOMING = "upcoming", "Upcoming"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    CANCELED = "canceled", "Canceled"


PUBLIC_STATUSES = (
    TournamentStatus.UPCOMING,
    TournamentStatus.RUNNING,
    TournamentStatus.FINISHED,
    TournamentStatus.CANCELED,
)


class Tournament(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=TournamentStatus.choices, default=TournamentStatus.DRAFT
    )
    registration_opens_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: as soon as the tournament is published."
    )
    registration_closes_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: until the tournament ends (late entries)."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    starting_balance = models.DecimalField(**MONEY, default=Decimal("10000.00"))
    allowed_instruments = models.ManyToManyField(
        Instrument, blank=True, related_name="+", help_text="Empty: every instrument."
    )
    max_leverage = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    allow_short = models.BooleanField(default=True)
    commission_rate = models.DecimalField(
        max_digits=8,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="e.g. 0.0002 for 0.02 % of notional. Empty: each instrument's own rate.",
    )
    min_commission = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Empty: each instrument's own minimum.",
    )
    max_position_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Largest share of equity one instrument may take, e.g. 0.5 for 50 %.",
    )
    max_participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit."
    )
    join_code = models.CharField(
        max_length=32, blank=True, help_text="Empty: a public tournament anyone may join."
    )
    bots_allowed = models.BooleanField(
        default=True, help_text="Orders through the API allowed; bot entrants may join."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the standings were last recomputed (each Standing row keeps when it last changed).
    standings_computed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="tournament_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(starting_balance__gt=0), name="tournament_balance_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_leverage__gte=1) & Q(max_leverage__lte=100),
                name="tournament_leverage_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="tournament_status_start_idx"),
            models.Index(fields=["status", "ends_at"], name="tournament_status_end_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_private(self) -> bool:
        return bool(self.join_code)

    def registration_open_at(self, when) -> bool:
        """Whether someone may join at WHEN (published, inside the registration window)."""
        if self.status not in (TournamentStatus.UPCOMING, TournamentStatus.RUNNING):
            return False
        if self.registration_opens_at and when < self.registration_opens_at:
            return False
        closes = self.registration_closes_at or self.ends_at
        return when < min(closes, self.ends_at)


class Participant(models.Model):
    tournament = models.ForeignKey(
        Tournament, on_delete=models.PROTECT, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tournament_entries"
    )
    account = models.OneToOneField(
        TradingAccount, on_delete=models.PROTECT, related_name="tournament_entry"
    )
    is_bot = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualification_reason = models.TextField(blank=True)
    disqualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tournament", "user"], name="participant_once_per_tournament"
            )
        ]
        indexes = [models.Index(fields=["user", "-joined_at"], name="participant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tournament_id}"

    @property
    def is_disqualified(self) -> bool:
        return self.disqualified_at is not None


class Standing(models.Model):
    """A participant's latest standing. `rank` is NULL for the disqualified (listed last);
    `position` is the display order: rank, then earlier entry first."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="standing"
    )
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="standings")
    rank = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField()
    equity = models.DecimalField(**MONEY)
    pnl = models.DecimalField(**MONEY)
    return_pct = models.DecimalField(**PERCENT)
    trades = models.PositiveIntegerField(default=0)
    win_rate = models.DecimalField(
        **PERCENT, null=True, blank=True, help_text="NULL until a fill realises profit or loss."
    )
    max_drawdown = models.DecimalField(**PERCENT, default=Decimal("0"))
    # The running peak of equity the drawdown is measured from (carried between recomputes).
    peak_equity = models.DecimalField(**MONEY, null=True, blank=True)
    computed_at = models.DateTimeField()
    is_final = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        indexes = [
            # Rank lookups, and the top of the board in display order (rank, then position:
            # the disqualified, rank NULL, sort last) as one index range scan.
            models.Index(
                fields=["tournament", "rank", "position"], name="standing_tournament_rank_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.participant_id} {self.return_pct}%"


class Prize(models.Model):
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="prizes")
    rank_from = models.PositiveIntegerField()
    rank_to = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY, help_text="Cash paid to the winner's main account.")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["rank_from", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rank_from__gte=1), name="prize_rank_from_positive"),
            models.CheckConstraint(
                condition=Q(rank_to__gte=models.F("rank_from")), name="prize_rank_range"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="prize_amount_positive"),
        ]

    def __str__(self) -> str:
        ranks = str(self.rank_from)
        if self.rank_to != self.rank_from:
            ranks += f"-{self.rank_to}"
        return f"rank {ranks}: {self.amount}"

    def covers(self, rank: int) -> bool:
        return self.rank_from <= rank <= self.rank_to


class PrizeAward(models.Model):
    """A prize paid. The unique (tournament, participant) constraint is what guarantees a
    finish run twice, or two at once, pays nobody twice."""

    tournament = models.ForeignKey(Tournament, on_delete=models.PROTECT, related_name="awards")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="awards")
    prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="awards")
    rank = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY)
    journal_id = models.BigIntegerField(help_text="The ledger `prize` journal that paid it.")
    awarded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tournament", "participant"], name="prize_award_once_per_participant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} to {self.participant_id} (rank {self.rank})"
