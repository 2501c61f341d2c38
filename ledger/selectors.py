"""Ledger reads shared by pages, API and reconciliation."""

from decimal import Decimal

from django.db.models import QuerySet, Sum

from config.money import ZERO, quantize_cash
from ledger.models import AccountKind, LedgerAccount, Posting


def postings_for_account(account: LedgerAccount) -> QuerySet[Posting]:
    """The account's postings, newest first (by id: the order they were posted in), with
    their journal. Served by the (account, -id) index."""
    return Posting.objects.filter(account=account).select_related("journal").order_by("-id")


def account_balance_from_postings(account: LedgerAccount) -> Decimal:
    """The sum of the account's postings (the truth the cached cash balance must equal)."""
    total = Posting.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
    return quantize_cash(total if total is not None else ZERO)


def account_balance(account: LedgerAccount) -> Decimal:
    """A cash account's cached balance (as of this instance), or a house account's balance
    summed from its postings (house accounts keep no cached balance)."""
    if account.kind == AccountKind.CASH:
        return account.balance
    return account_balance_from_postings(account)
