"""Ledger writes: open accounts, post journals, reverse them, reconcile the book.

Every posting goes through `journal_post`, which refuses (LedgerError, nothing written) a
journal that does not balance to the cent. On PostgreSQL the database enforces the same rule
again at commit, and refuses UPDATE and DELETE of journals and postings (migration 0002).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, Lag, Round

from accounts.models import User
from config.api import DomainError
from config.money import ZERO, quantize_cash
from ledger.models import (
    CASH_LIMIT,
    DEFAULT_CURRENCY,
    HOUSE_ACCOUNTS,
    HOUSE_ADJUSTMENTS,
    AccountKind,
    Journal,
    JournalKind,
    LedgerAccount,
    Posting,
)

logger = logging.getLogger(__name__)


class LedgerError(DomainError):
    """A journal the ledger refuses. Codes: empty, unbalanced, not_decimal, not_cash_precision,
    zero_amount, amount_too_large, balance_too_large, currency_mismatch, unknown_kind,
    unknown_account, unknown_house_account, not_cash_account, reason_required,
    already_reversed."""


def house_account(code: str) -> LedgerAccount:
    """The well-known house account CODE (one of models.HOUSE_ACCOUNTS), created on first use.

    No locks: house accounts are never locked nor updated after creation (their balance is
    summed from postings). A concurrent first use is resolved by the unique code.
    """
    if code not in HOUSE_ACCOUNTS:
        raise LedgerError("unknown_house_account", f"{code!r} is not a house account.")
    account, _ = LedgerAccount.objects.get_or_create(
        code=code,
        defaults={
            "kind": AccountKind.HOUSE,
            "name": HOUSE_ACCOUNTS[code],
            "currency": DEFAULT_CURRENCY,
            "balance": None,
        },
    )
    return account


@transaction.atomic
def cash_account_open(
    *, owner: User | None, name: str, currency: str = DEFAULT_CURRENCY
) -> LedgerAccount:
    """Open an empty cash account (balance 0.00) for OWNER. Money arrives by journals only
    (e.g. a `deposit` against house:capital). No locks; inserts one row. NAME is a display
    label, cut to the column's length."""
    return LedgerAccount.objects.create(
        code=f"cash:{uuid.uuid4().hex}",
        kind=AccountKind.CASH,
        name=name[: LedgerAccount._meta.get_field("name").max_length],
        currency=currency,
        balance=ZERO.quantize(Decimal("0.01")),
        owner=owner,
    )


def _validate_lines(
    kind: str, lines: Sequence[tuple[LedgerAccount, Decimal]]
) -> list[tuple[LedgerAccount, Decimal]]:
    if kind not in JournalKind.values:
        raise LedgerError("unknown_kind", f"{kind!r} is not a journal kind.")
    if not lines:
        raise LedgerError("empty", "A journal needs postings.")
    clean: list[tuple[LedgerAccount, Decimal]] = []
    for account, amount in lines:
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise LedgerError("not_decimal", f"{amount!r} is not a finite Decimal amount.")
        if amount != quantize_cash(amount):
            raise LedgerError("not_cash_precision", f"{amount} is not a whole number of cents.")
        if amount == 0:
            raise LedgerError("zero_amount", "A posting cannot be zero.")
        if abs(amount) >= CASH_LIMIT:
            raise LedgerError("amount_too_large", f"{amount} is too large for the ledger.")
        if not isinstance(account, LedgerAccount) or account.pk is None:
            raise LedgerError("unknown_account", f"{account!r} is not a saved ledger account.")
        clean.append((account, quantize_cash(amount)))
    total = sum((amount for _, amount in clean), ZERO)
    if total != 0:
        raise LedgerError("unbalanced", f"The postings sum to {total}, not to zero.")
    currencies = {account.currency for account, _ in clean}
    if len(currencies) > 1:
        raise LedgerError(
            "currency_mismatch", f"A journal posts in one currency, not {sorted(currencies)}."
        )
    return clean


def journal_post(
    *,
    kind: str,
    lines: Sequence[tuple[LedgerAccount, Decimal]],
    memo: str = "",
    reference_type: str = "",
    reference_id: str = "",
    created_by: User | None = None,
    reason: str = "",
    reverses: Journal | None = None,
) -> Journal:
    """Post one balanced journal: each line is (account, amount), amount > 0 increasing it.

    Invariant: the amounts are non-zero Decimals in whole cents, one currency, summing to
    exactly zero; otherwise LedgerError(code) is raised and nothing is written.
    Locks: the CASH accounts of the lines, FOR NO KEY UPDATE, in id order (so concurrent
    journals touching the same accounts cannot deadlock); house accounts are not locked.
    Side effects: inserts the journal and its postings (a cash posting records the account's
    balance after it, in line order), updates each cash account's cached balance in the same
    transaction, and refreshes `balance` on the LedgerAccount instances passed in.
    The ledger does not refuse negative cash balances: buying power is trading's rule.
    """
    clean = _validate_lines(kind, lines)
    # No savepoint when nested (two statements saved on every fill): refusals are decided
    # before anything is written and raised outside the block, so a caller that catches one
    # can go on with its transaction.
    with transaction.atomic(savepoint=False):
        locked, balances_after, refusal = _lock_and_run(clean)
        if refusal is None:
            journal = Journal.objects.create(
                kind=kind,
                memo=memo,
                reference_type=reference_type,
                reference_id=str(reference_id),
                created_by=created_by,
                reason=reason,
                reverses=reverses,
            )
            Posting.objects.bulk_create(
                Posting(
                    journal=journal,
                    account_id=account.pk,
                    amount=amount,
                    balance_after=balance_after,
                    created_at=journal.created_at,
                )
                for (account, amount), balance_after in zip(clean, balances_after, strict=True)
            )
            for account in locked.values():
                account.save(update_fields=["balance"])
    if refusal is not None:
        raise refusal
    for account, _ in lines:
        if account.pk in locked:
            account.balance = locked[account.pk].balance
    return journal


def _lock_and_run(
    clean: list[tuple[LedgerAccount, Decimal]],
) -> tuple[dict[int, LedgerAccount], list[Decimal | None], LedgerError | None]:
    """Lock the cash accounts of CLEAN (id order) and run their balances through the lines:
    (locked accounts with their new balances, each line's balance after, refusal or None)."""
    cash_ids = sorted({account.pk for account, _ in clean if account.kind == AccountKind.CASH})
    locked = {
        account.pk: account
        for account in LedgerAccount.objects.select_for_update(no_key=True)
        .filter(pk__in=cash_ids)
        .order_by("pk")
    }
    if len(locked) != len(cash_ids):
        refusal = LedgerError("unknown_account", "A cash account of this journal does not exist.")
        return locked, [], refusal
    balances_after: list[Decimal | None] = []
    for account, amount in clean:
        if account.pk in locked:
            new_balance = locked[account.pk].balance + amount
            if abs(new_balance) >= CASH_LIMIT:
                return (
                    locked,
                    [],
                    LedgerError("balance_too_large", f"{account.code} would overflow."),
                )
            locked[account.pk].balance = new_balance
            balances_after.append(new_balance)
        else:
            balances_after.append(None)
    return locked, balances_after, None


@transaction.atomic
def adjustment_post(
    *, account: LedgerAccount, amount: Decimal, reason: str, operator: User | None
) -> Journal:
    """An operator's correction of a trader's cash account: `amount` (> 0 credits the trader)
    against house:adjustments, with a required reason and the operator recorded as creator.

    Locks the cash account (through journal_post); refuses with LedgerError (not_cash_account,
    reason_required, or any journal_post code) and writes nothing.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("reason_required", "An adjustment needs a reason.", field="reason")
    if account.kind != AccountKind.CASH:
        raise LedgerError("not_cash_account", "Only a trader's cash account can be adjusted.")
    return journal_post(
        kind=JournalKind.ADJUSTMENT,
        lines=[(account, amount), (house_account(HOUSE_ADJUSTMENTS), -amount)],
        memo="Operator adjustment",
        reference_type="operator" if operator else "",
        reference_id=str(operator.pk) if operator else "",
        created_by=operator,
        reason=reason,
    )


@transaction.atomic
def journal_reverse(*, journal: Journal, reason: str, created_by: User | None = None) -> Journal:
    """Cancel JOURNAL with a new journal of the same kind whose postings are its negation.

    A journal is reversed at most once (`Journal.reverses` is unique). Locks the original
    journal row (so a concurrent second reversal waits, then is refused), then the cash
    accounts through journal_post; refuses with LedgerError (reason_required,
    already_reversed) and writes nothing.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("reason_required", "A reversal needs a reason.", field="reason")
    # SELECT ... FOR UPDATE fires no UPDATE trigger: the journal stays append-only.
    Journal.objects.select_for_update().filter(pk=journal.pk).values_list("pk").get()
    if Journal.objects.filter(reverses=journal).exists():
        raise LedgerError("already_reversed", f"Journal #{journal.pk} is already reversed.")
    lines = [(p.account, -p.amount) for p in journal.postings.select_related("account")]
    return journal_post(
        kind=journal.kind,
        lines=lines,
        memo=f"Reversal of journal #{journal.pk}",
        reference_type="journal",
        reference_id=str(journal.pk),
        created_by=created_by,
        reason=reason,
        reverses=journal,
    )


# --- Reconciliation ------------------------------------------------------------------------

# Each check names at most this many offenders (and counts the rest).
PROBLEM_LIST_LIMIT = 50


@dataclass(frozen=True)
class ReconcileProblem:
    code: str
    message: str


@dataclass
class ReconcileReport:
    journals: int = 0
    postings: int = 0
    cash_accounts: int = 0
    house_accounts: int = 0
    # Sum of every posting, per currency: zero in a sound book.
    book_totals: dict[str, Decimal] = field(default_factory=dict)
    problems: list[ReconcileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        totals = ", ".join(f"{amount} {cur}" for cur, amount in sorted(self.book_totals.items()))
        return (
            f"{self.journals} journals, {self.postings} postings, {self.cash_accounts} cash "
            f"accounts, {self.house_accounts} house accounts; book total {totals or '0.00'}"
        )


def _collect(report: ReconcileReport, code: str, rows, describe) -> None:
    rows = list(rows[: PROBLEM_LIST_LIMIT + 1])
    for row in rows[:PROBLEM_LIST_LIMIT]:
        report.problems.append(ReconcileProblem(code, describe(row)))
    if len(rows) > PROBLEM_LIST_LIMIT:
        report.problems.append(
            ReconcileProblem(code, f"more {code} problems beyond the first {PROBLEM_LIST_LIMIT}")
        )


def _cents(expression):
    # PostgreSQL sums numeric exactly; SQLite stores decimals as REAL, so its sums carry
    # binary noise (0.1 + 0.2 - 0.3 != 0). Rounding to the cent makes both compare exactly.
    return Round(expression, 2)


def ledger_reconcile() -> ReconcileReport:
    """Prove the book: every journal has postings summing to zero in one currency; each cash
    account's cached balance equals the sum of its postings and its balance_after chain is
    consistent; house accounts cache nothing; the whole book sums to zero per currency.

    Read-only, no locks. Each check is one set-based statement (GROUP BY / HAVING or a
    window), so each sees one consistent snapshot even while trading continues.
    """
    report = ReconcileReport()
    zero = Value(ZERO, output_field=Posting._meta.get_field("amount"))

    report.journals = Journal.objects.count()
    report.postings = Posting.objects.count()
    kinds = {
        r["kind"]: r["n"]
        for r in LedgerAccount.objects.values("kind").annotate(n=Count("id")).order_by()
    }
    report.cash_accounts = kinds.get(AccountKind.CASH, 0)
    report.house_accounts = kinds.get(AccountKind.HOUSE, 0)

    _collect(
        report,
        "journal_unbalanced",
        Posting.objects.values("journal_id")
        .annotate(total=_cents(Sum("amount")))
        .exclude(total=0)
        .order_by("journal_id"),
        lambda r: f"journal #{r['journal_id']} postings sum to {r['total']}, not 0",
    )
    _collect(
        report,
        "journal_empty",
        Journal.objects.filter(postings__isnull=True).order_by("pk").values_list("pk", flat=True),
        lambda pk: f"journal #{pk} has no postings",
    )
    _collect(
        report,
        "journal_mixed_currency",
        Posting.objects.values("journal_id")
        .annotate(currencies=Count("account__currency", distinct=True))
        .filter(currencies__gt=1)
        .order_by("journal_id"),
        lambda r: f"journal #{r['journal_id']} posts in {r['currencies']} currencies",
    )
    _collect(
        report,
        "cash_balance_mismatch",
        LedgerAccount.objects.filter(kind=AccountKind.CASH)
        .annotate(total=Coalesce(Sum("postings__amount"), zero))
        .annotate(difference=_cents(F("balance") - F("total")))
        .exclude(difference=0)
        .order_by("pk")
        .values("pk", "code", "balance", "total"),
        lambda r: (
            f"cash account {r['code']} (id {r['pk']}) caches {r['balance']} "
            f"but its postings sum to {r['total']}"
        ),
    )
    _collect(
        report,
        "house_balance_cached",
        LedgerAccount.objects.filter(kind=AccountKind.HOUSE, balance__isnull=False)
        .order_by("pk")
        .values_list("code", flat=True),
        lambda code: f"house account {code} caches a balance",
    )
    _collect(
        report,
        "balance_after_misplaced",
        Posting.objects.filter(
            Q(account__kind=AccountKind.CASH, balance_after__isnull=True)
            | Q(account__kind=AccountKind.HOUSE, balance_after__isnull=False)
        )
        .order_by("pk")
        .values("pk", "account__code"),
        lambda r: f"posting #{r['pk']} on {r['account__code']} has a wrong balance_after",
    )
    # balance_after[n] == balance_after[n-1] + amount[n] along each cash account, by id.
    _collect(
        report,
        "balance_after_chain_broken",
        Posting.objects.filter(account__kind=AccountKind.CASH, balance_after__isnull=False)
        .annotate(
            previous=Window(
                Lag("balance_after", default=zero),
                partition_by=[F("account_id")],
                order_by=F("id").asc(),
            )
        )
        .annotate(difference=_cents(F("previous") + F("amount") - F("balance_after")))
        .exclude(difference=0)
        .order_by("pk")
        .values("pk", "account_id", "previous", "amount", "balance_after"),
        lambda r: (
            f"posting #{r['pk']} on account id {r['account_id']}: {r['previous']} + "
            f"{r['amount']} != balance_after {r['balance_after']}"
        ),
    )
    totals = (
        Posting.objects.values("account__currency")
        .annotate(total=Sum("amount"))
        .order_by("account__currency")
    )
    report.book_totals = {r["account__currency"]: quantize_cash(r["total"]) for r in totals}
    for currency, total in report.book_totals.items():
        if total != 0:
            report.problems.append(
                ReconcileProblem("book_unbalanced", f"the {currency} book sums to {total}, not 0")
            )
    return report


def ledger_reconcile_job() -> ReconcileReport:
    """The scheduled reconciliation (config.jobs): logs each problem at ERROR level."""
    report = ledger_reconcile()
    if report.ok:
        logger.info("ledger reconciled: %s", report.summary())
    else:
        by_code: dict[str, int] = defaultdict(int)
        for problem in report.problems:
            by_code[problem.code] += 1
            logger.error("ledger reconcile: %s: %s", problem.code, problem.message)
        logger.error(
            "ledger does NOT reconcile (%s): %s",
            ", ".join(f"{code} x{n}" for code, n in sorted(by_code.items())),
            report.summary(),
        )
    return report


__all__ = [
    "LedgerError",
    "ReconcileProblem",
    "ReconcileReport",
    "adjustment_post",
    "cash_account_open",
    "house_account",
    "journal_post",
    "journal_reverse",
    "ledger_reconcile",
    "ledger_reconcile_job",
]
