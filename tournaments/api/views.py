"""Tournaments API: public lists, details and leaderboards; joining and my standings.

Unknown or draft tournaments answer 404 `not_found`; refusals to join answer 409 (full,
closed, already joined, bots not allowed) or 403 `wrong_join_code`.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import BoundedLimitOffsetPagination, ErrorSerializer, validated
from tournaments import selectors, services
from tournaments.api.serializers import (
    JoinInput,
    LeaderboardQuery,
    MyStandingOutput,
    MyTournamentOutput,
    ParticipantOutput,
    StandingOutput,
    TournamentDetailOutput,
    TournamentOutput,
    TournamentsQuery,
)
from tournaments.models import Standing

ID_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such tournament (`not_found`).")


@extend_schema(
    parameters=[TournamentsQuery],
    responses={200: TournamentOutput(many=True), 400: ErrorSerializer},
    auth=[],
    summary="List tournaments",
    description="Published tournaments, optionally of one `status`. Paginated with `limit` "
    "(at most 500) and `offset`.",
)
class TournamentList(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = TournamentOutput
    pagination_class = BoundedLimitOffsetPagination

    def get_queryset(self):
        query = validated(TournamentsQuery, self.request.query_params)
        return selectors.tournaments_list(query.get("status"))


@extend_schema(
    parameters=[ID_PARAM],
    responses={200: TournamentDetailOutput, 404: NOT_FOUND},
    auth=[],
    summary="One tournament: rules, window, prizes, participant count, status",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def tournament_detail(request: Request, pk: int) -> Response:
    tournament = selectors.tournament_get(tournament_id=pk)
    return Response(TournamentDetailOutput(tournament).data)


@extend_schema(
    parameters=[ID_PARAM],
    request=JoinInput,
    responses={
        201: ParticipantOutput,
        403: OpenApiResponse(ErrorSerializer, description="`wrong_join_code`"),
        404: NOT_FOUND,
        409: OpenApiResponse(
            ErrorSerializer,
            description="`tournament_full`, `registration_closed`, `already_joined`, "
            "`bots_not_allowed`",
        ),
    },
    summary="Join a tournament",
    description="Creates a dedicated trading account with the starting balance and the "
    "tournament's rules; its id is `account_id` (trade through /api/accounts/{account_id}).",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def tournament_join(request: Request, pk: int) -> Response:
    tournament = selectors.tournament_get(tournament_id=pk)
    data = validated(JoinInput, request.data)
    participant = services.tournament_join(
        tournament=tournament, user=request.user, join_code=data.get("join_code")
    )
    return Response(ParticipantOutput(participant).data, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[ID_PARAM, LeaderboardQuery],
    responses={200: StandingOutput(many=True), 404: NOT_FOUND},
    auth=[],
    summary="Leaderboard",
    description="Standings in display order: rank (equal returns share a rank), then earlier "
    "entry; the disqualified last with rank null. Paginated with `limit` (at most 500) and "
    "`offset`.",
)
class Leaderboard(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = StandingOutput
    pagination_class = BoundedLimitOffsetPagination

    def get_queryset(self):
        tournament_id = self.kwargs["pk"]
        if not selectors.tournament_exists(tournament_id):
            raise NotFound("No such tournament.", code="not_found")
        validated(LeaderboardQuery, self.request.query_params)
        return (
            Standing.objects.filter(tournament_id=tournament_id)
            .select_related("participant__user")
            .order_by(*selectors.BOARD_ORDER)
        )


@extend_schema(
    parameters=[ID_PARAM],
    responses={200: MyStandingOutput, 404: NOT_FOUND},
    summary="My standing in a tournament",
    description="404 when you have not joined it. `standing` is null until the first "
    "recompute (every few seconds).",
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def my_standing(request: Request, pk: int) -> Response:
    tournament = selectors.tournament_get(tournament_id=pk)
    participant = selectors.participant_for(tournament, request.user)
    if participant is None:
        return Response(
            {"detail": "You have not joined this tournament.", "code": "not_found"},
            status=status.HTTP_404_NOT_FOUND,
        )
    standing = selectors.standing_for(tournament, request.user)
    return Response(MyStandingOutput({"participant": participant, "standing": standing}).data)


@extend_schema(
    responses={200: MyTournamentOutput(many=True)},
    summary="Tournaments I joined",
    description="Newest entry first, each with my standing. Paginated with `limit` and `offset`.",
)
class MyTournaments(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = MyTournamentOutput
    pagination_class = BoundedLimitOffsetPagination

    def get_queryset(self):
        return selectors.tournaments_for_user(self.request.user).select_related("user")

    def get_serializer(self, *args, **kwargs):
        if args:
            entries = args[0]
            args = (
                [
                    {
                        "tournament": entry.tournament,
                        "participant": entry,
                        "standing": getattr(entry, "standing", None),
                    }
                    for entry in entries
                ],
                *args[1:],
            )
        return super().get_serializer(*args, **kwargs)
