"""`/ws/accounts/{id}/`: the owner's stream of order_update, fill, position_update and
balance_update events (published by trading.services after commit, each with a per-account
`seq`). Read only: it authenticates, joins the account's group and relays."""

from channels.db import database_sync_to_async
from django.http import Http404

from accounts.consumers import CLOSE_NOT_FOUND, AuthenticatedJsonConsumer
from trading.realtime import account_group
from trading.selectors import account_get_for_user, account_state


class AccountConsumer(AuthenticatedJsonConsumer):
    """Closed with 4404 when the account does not exist or is not the user's.

    After authenticating, the client gets `{"type": "snapshot", "seq": N, "account": {...}}`:
    the balances as of event N. The group is joined before the snapshot is read, so no event
    after N is missed; events with seq <= N may still arrive and are already in the snapshot.
    """

    account_id: int | None = None

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
        balances = {key: str(value) for key, value in account_state(account).rounded().items()}
        return {
            "type": "snapshot",
            "seq": account.event_seq,
            "account": {
                "id": account.pk,
                **balances,
                "realized_pnl": str(account.realized_pnl),
            },
        }
