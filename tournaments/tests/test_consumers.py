"""`/ws/tournaments/<id>/`: standings arrive after a recompute; public; ping/pong."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.consumers import CLOSE_NOT_FOUND
from accounts.tests.factories import UserFactory
from config.asgi import application
from tournaments.models import TournamentStatus
from tournaments.services import standings_recompute, tournament_join
from tournaments.tests.factories import make_tournament

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def connect(path):
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


def _running_with_two():
    tournament = make_tournament()
    tournament_join(tournament=tournament, user=UserFactory(display_name="alice"))
    tournament_join(tournament=tournament, user=UserFactory(display_name="bob"))
    return tournament


async def test_standings_arrive_after_a_recompute():
    tournament = await sync_to_async(_running_with_two)()
    communicator = await connect(f"/ws/tournaments/{tournament.pk}/")
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot["type"] == "standings"
    assert snapshot["snapshot"] is True
    assert snapshot["rows"] == []

    await sync_to_async(standings_recompute)(tournament=tournament)

    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "standings"
    assert frame["tournament"] == tournament.pk
    assert frame["computed_at"].endswith("Z")
    assert [(row["rank"], row["display_name"]) for row in frame["rows"]] == [
        (1, "alice"),
        (1, "bob"),
    ]
    assert frame["rows"][0]["equity"] == "10000.00"
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


async def test_an_unknown_or_draft_tournament_closes_with_4404():
    draft = await sync_to_async(make_tournament)(status=TournamentStatus.DRAFT)
    for path in ("/ws/tournaments/999999/", f"/ws/tournaments/{draft.pk}/"):
        communicator = await connect(path)
        error = await communicator.receive_json_from(timeout=5)
        assert error["code"] == "not_found"
        closed = await communicator.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
        await communicator.disconnect()
