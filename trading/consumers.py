"""`/ws/accounts/{id}/`: the owner's stream of order_update, fill, position_update and
balance_update events (published by trading.services after commit, each with a per-account
`seq`). It authenticates, joins the account's group and relays; like `/ws/market/` it also
takes subscribe/unsubscribe messages for ticks, so a trading page needs one socket."""

from channels.db import database_sync_to_async
from django.http import Http404

from accounts.consumers import CLOSE_NOT_FOUND, AuthenticatedJsonConsumer
from market.consumers import TickSubscriptions
from trading.realtime import account_group
from trading.selectors import account_get_for_user, balance_payload


class AccountConsumer(TickSubscriptions, AuthenticatedJsonConsumer):
    """Closed with 4404 when the account does not exist or is not the user's.

    After authenticating, the client gets `{"type": "snapshot", "seq": N, "account": {...}}`:
    the balances as of event N. The group is joined before the snapshot is read, so no event
    after N is missed; events with seq <= N may still arrive and are already in the snapshot.
    """

    account_id: int | None = None

    async def disconnect(self, code):
        await super().disconnect(code)
        await self.leave_tick_groups()

    async def handle_authenticated_message(self, message_type: str, content: dict) -> None:
        if not await self.handle_tick_subscription(message_type, content):
            await super().handle_authenticated_message(message_type, content)

    def groups_for(self, user) -> list[str] | None:
        try:
            account = account_get_for_user(
                user=user, account_id=self.scope["url_route"]["kwargs"]["account_id"]
            )
        except Http404:
            return None
        self.account_id = account.pk
        return [account_group(account.pk)]

    async def on_authenticated(self) -> None:
        snapshot = await database_sync_to_async(self._snapshot)()
        if snapshot is None:  # deleted in the meantime
            await self.send_error("not_found", "No such stream.")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.send_json(snapshot)

    def _snapshot(self) -> dict | None:
        try:
            account = account_get_for_user(user=self.user, account_id=self.account_id)
        except Http404:
            return None
        return {
            "type": "snapshot",
            "seq": account.event_seq,
            "account": {"id": account.pk, **balance_payload(account)},
        }
