"""`/ws/tournaments/<id>/`: the tournament's `standings` (public, read-only).

On connect the current top rows arrive at once as a `standings` frame marked
"snapshot": true; every recompute publishes a fresh frame, and lifecycle changes arrive as
`tournament_status`. An unknown or draft tournament is closed with 4404. Ping/pong and
error handling come from JsonSocketConsumer.
"""

from channels.db import database_sync_to_async

from accounts.consumers import CLOSE_NOT_FOUND, JsonSocketConsumer
from tournaments import selectors
from tournaments.models import Tournament
from tournaments.realtime import STANDINGS_TOP_N, standings_frame, tournament_group


def _snapshot(tournament_id: int) -> dict | None:
    tournament = Tournament.objects.filter(pk=tournament_id).first()
    if tournament is None or not selectors.tournament_exists(tournament_id):
        return None
    frame = standings_frame(tournament, selectors.leaderboard(tournament, STANDINGS_TOP_N))
    return {**frame, "snapshot": True}


class StandingsConsumer(JsonSocketConsumer):
    group: str | None = None

    async def connect(self):
        tournament_id = int(self.scope["url_route"]["kwargs"]["tournament_id"])
        await self.accept()
        snapshot = await database_sync_to_async(_snapshot)(tournament_id)
        if snapshot is None:
            await self.send_error("not_found", "No such tournament.")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = tournament_group(tournament_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(snapshot)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
