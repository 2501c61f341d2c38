"""Shapes of the tournaments API (validation and output only)."""

from rest_framework import serializers

from tournaments.models import TournamentStatus
from tournaments.selectors import LEADERBOARD_MAX_LIMIT


class TournamentsQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[
            TournamentStatus.UPCOMING,
            TournamentStatus.RUNNING,
            TournamentStatus.FINISHED,
            TournamentStatus.CANCELED,
        ],
        required=False,
    )


class LeaderboardQuery(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, required=False, default=50, help_text=f"at most {LEADERBOARD_MAX_LIMIT}"
    )
    offset = serializers.IntegerField(min_value=0, required=False, default=0)


class JoinInput(serializers.Serializer):
    join_code = serializers.CharField(max_length=64, required=False, allow_blank=True)


class PrizeOutput(serializers.Serializer):
    rank_from = serializers.IntegerField()
    rank_to = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    description = serializers.CharField()


class TournamentSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    starting_balance = serializers.DecimalField(max_digits=20, decimal_places=2)


class TournamentOutput(TournamentSummaryOutput):
    registration_opens_at = serializers.DateTimeField(allow_null=True)
    registration_closes_at = serializers.DateTimeField(allow_null=True)
    participant_count = serializers.IntegerField()
    max_participants = serializers.IntegerField(allow_null=True)
    is_private = serializers.BooleanField()
    bots_allowed = serializers.BooleanField()


class RulesOutput(serializers.Serializer):
    allowed_instruments = serializers.SerializerMethodField()
    max_leverage = serializers.DecimalField(max_digits=6, decimal_places=2)
    allow_short = serializers.BooleanField()
    commission_rate = serializers.DecimalField(max_digits=8, decimal_places=6, allow_null=True)
    min_commission = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    max_position_share = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    bots_allowed = serializers.BooleanField()

    def get_allowed_instruments(self, obj) -> list[str]:
        return sorted(i.symbol for i in obj.allowed_instruments.all())


class TournamentDetailOutput(TournamentOutput):
    description = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    standings_computed_at = serializers.DateTimeField(allow_null=True)
    rules = RulesOutput(source="*")
    prizes = PrizeOutput(many=True, source="prizes.all")


class StandingOutput(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null when disqualified")
    position = serializers.IntegerField(help_text="display order: rank, then earlier entry")
    display_name = serializers.CharField(source="participant.user.display_name")
    equity = serializers.DecimalField(max_digits=20, decimal_places=2)
    pnl = serializers.DecimalField(max_digits=20, decimal_places=2)
    return_pct = serializers.DecimalField(max_digits=12, decimal_places=4)
    trades = serializers.IntegerField()
    win_rate = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    max_drawdown = serializers.DecimalField(max_digits=12, decimal_places=4)
    is_bot = serializers.BooleanField(source="participant.is_bot")
    disqualified = serializers.BooleanField(source="participant.is_disqualified")


class ParticipantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tournament = serializers.IntegerField(source="tournament_id")
    account_id = serializers.IntegerField()
    display_name = serializers.CharField(source="user.display_name")
    is_bot = serializers.BooleanField()
    joined_at = serializers.DateTimeField()
    disqualified = serializers.BooleanField(source="is_disqualified")
    disqualification_reason = serializers.CharField()


class MyStandingOutput(serializers.Serializer):
    participant = ParticipantOutput()
    standing = StandingOutput(allow_null=True)


class MyTournamentOutput(serializers.Serializer):
    tournament = TournamentSummaryOutput()
    participant = ParticipantOutput()
    standing = StandingOutput(allow_null=True)
