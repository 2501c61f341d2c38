"""Account streams: every event carries the account's next sequence number; published after
commit to the account's group (a gap in `seq` tells a client to resync over REST)."""

from django.db import transaction

from config.realtime import publish_now


def account_group(account_id: int) -> str:
    return f"account.{account_id}"


class AccountEvents:
    """Collects the events of one transaction on a LOCKED account, numbers them, and
    publishes them once the transaction commits."""

    def __init__(self, account) -> None:
        self.account = account
        self.events: list[dict] = []
        self._balance_changed = False

    def add(self, event_type: str, data: dict) -> None:
        # The event type must win over the payload's own `type` (an order's market/limit/...),
        # which is kept as `order_type`.
        event = {**data, "type": event_type}
        if "type" in data:
            event["order_type"] = data["type"]
        self.events.append(event)

    def balance_changed(self) -> None:
        """Money moved: one `balance_update` (computed once, at flush) ends the batch."""
        self._balance_changed = True

    def flush(self) -> None:
        """Assign sequence numbers (saving the counter) and publish after commit."""
        if self._balance_changed:
            from trading.selectors import balance_payload

            self.events.append({"type": "balance_update", **balance_payload(self.account)})
            self._balance_changed = False
        if not self.events:
            return
        account = self.account
        for event in self.events:
            account.event_seq += 1
            event["seq"] = account.event_seq
            event["account"] = account.pk
        account.save(update_fields=["event_seq"])
        group = account_group(account.pk)
        events, self.events = self.events, []

        def send() -> None:
            for event in events:
                publish_now(group, event)

        transaction.on_commit(send)
