from decimal import Decimal

import factory
import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from ledger.models import HOUSE_CAPITAL, AccountKind, Journal, JournalKind, LedgerAccount


class CashAccountFactory(factory.django.DjangoModelFactory):
    """An empty cash account; give it money with `deposit` (through the ledger, not a field)."""

    class Meta:
        model = LedgerAccount

    code = factory.Sequence(lambda n: f"cash:test-{n}")
    kind = AccountKind.CASH
    name = factory.Sequence(lambda n: f"Trading account {n}")
    currency = "USD"
    balance = Decimal("0.00")
    owner = factory.SubFactory(UserFactory)


def deposit(account: LedgerAccount, amount: Decimal, **kwargs) -> Journal:
    """Post a deposit of AMOUNT to ACCOUNT against house:capital."""
    from ledger.services import house_account, journal_post

    return journal_post(
        kind=JournalKind.DEPOSIT,
        lines=[(account, amount), (house_account(HOUSE_CAPITAL), -amount)],
        memo="Test deposit",
        **kwargs,
    )


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: the ledger's triggers (a no-op migration on SQLite) and row locks",
)
