"""What PostgreSQL itself enforces (migration 0002), raw SQL included.

Most tests here run inside pytest-django's per-test transaction, which is rolled back and
never committed, so a deferred trigger never fires there on its own: the commit-time tests use
`transaction=True` (a real COMMIT) or `SET CONSTRAINTS ALL IMMEDIATE`.
"""

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.tests.factories import UserFactory
from ledger.models import HOUSE_CAPITAL, HOUSE_FEES, Journal, JournalKind, LedgerAccount, Posting
from ledger.selectors import account_balance
from ledger.services import (
    LedgerError,
    house_account,
    journal_post,
    journal_reverse,
    ledger_reconcile,
)
from ledger.tests.factories import CashAccountFactory, deposit, on_postgresql


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _insert_journal() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journal (kind, memo, reference_type, reference_id, reason,"
            " created_at) VALUES ('deposit', 'raw', '', '', '', CURRENT_TIMESTAMP) RETURNING id"
        )
        return cursor.fetchone()[0]


def _insert_posting(journal_id: int, account_id: int, amount: str) -> None:
    _sql(
        "INSERT INTO ledger_posting (journal_id, account_id, amount, created_at)"
        " VALUES (%s, %s, %s, CURRENT_TIMESTAMP)",
        [journal_id, account_id, amount],
    )


def _raw_journal(postings: list[tuple[int, str]], *, check_now: bool = False) -> None:
    """Insert a journal and its postings with raw SQL in one atomic block (a transaction, or a
    savepoint inside the test's transaction). Every INSERT succeeds: the balance check runs at
    COMMIT, or at SET CONSTRAINTS ALL IMMEDIATE when CHECK_NOW."""
    with transaction.atomic():
        journal_id = _insert_journal()
        for account_id, amount in postings:
            _insert_posting(journal_id, account_id, amount)
        if check_now:
            _sql("SET CONSTRAINTS ALL IMMEDIATE")


@on_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_posting SET amount = amount * 2",
        "UPDATE ledger_posting SET balance_after = 0",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_journal SET memo = 'edited'",
        "DELETE FROM ledger_journal",
    ],
)
def test_raw_sql_cannot_update_or_delete_journals_or_postings(alice_cash, statement):
    deposit(alice_cash, Decimal("100.00"))

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(statement)

    assert sorted(Posting.objects.values_list("amount", flat=True)) == [
        Decimal("-100.00"),
        Decimal("100.00"),
    ]
    assert Journal.objects.get().memo == "Test deposit"


@on_postgresql
@pytest.mark.django_db
def test_the_orm_cannot_delete_a_posting_either(alice_cash):
    posting = deposit(alice_cash, Decimal("1.00")).postings.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        posting.delete()

    assert Posting.objects.count() == 2


@on_postgresql
@pytest.mark.django_db
def test_an_unbalanced_raw_insert_is_refused_when_constraints_are_checked(alice_cash):
    # (Django's TestCase also runs SET CONSTRAINTS ALL IMMEDIATE at teardown, so every
    # non-transactional test of the project checks that its journals balance.)
    with pytest.raises(IntegrityError, match="unbalanced"):
        _raw_journal([(alice_cash.pk, "10.00")], check_now=True)

    assert not Posting.objects.exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_raw_insert_fails_at_commit_and_leaves_nothing():
    alice_cash = CashAccountFactory()
    capital = house_account(HOUSE_CAPITAL)

    with pytest.raises(IntegrityError, match="unbalanced"):
        _raw_journal([(alice_cash.pk, "10.00"), (capital.pk, "-9.99")])

    assert not Journal.objects.exists()
    assert not Posting.objects.exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_journal_without_postings_fails_at_commit():
    with pytest.raises(IntegrityError, match="no postings"):
        _raw_journal([])

    assert not Journal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_balanced_journal_commits_and_reconciles():
    alice_cash = CashAccountFactory()

    deposit(alice_cash, Decimal("499.98"))
    # A balanced raw insert, split over statements, commits too.
    fees = house_account(HOUSE_FEES)
    _raw_journal([(fees.pk, "1.50"), (fees.pk, "-1.50")])

    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("499.98")
    assert Journal.objects.count() == 2
    assert ledger_reconcile().ok


@pytest.mark.django_db(transaction=True)
def test_truncate_still_flushes_the_ledger_for_test_teardown():
    """pytest-django flushes `transaction=True` databases with TRUNCATE, which fires no row
    trigger: the append-only triggers must not stop it."""
    deposit(CashAccountFactory(), Decimal("10.00"))

    call_command("flush", interactive=False, verbosity=0)

    assert not Posting.objects.exists()
    assert not Journal.objects.exists()
    assert not LedgerAccount.objects.exists()


def _run_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_ten_threads_posting_to_one_cash_account_end_with_the_exact_balance():
    alice_cash = CashAccountFactory()
    account_id = alice_cash.pk
    capital = house_account(HOUSE_CAPITAL)
    fees = house_account(HOUSE_FEES)
    per_thread = 20

    def work(index: int) -> None:
        for _ in range(per_thread):
            account = LedgerAccount.objects.get(pk=account_id)  # a stale copy, on purpose
            journal_post(
                kind=JournalKind.DEPOSIT,
                lines=[(account, Decimal("1.01")), (capital, Decimal("-1.01"))],
            )
            journal_post(
                kind=JournalKind.COMMISSION,
                lines=[(account, Decimal("-0.01")), (fees, Decimal("0.01"))],
            )

    errors = _run_threads(10, work)

    assert errors == []
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("200.00")
    assert account_balance(capital) == Decimal("-202.00")
    assert account_balance(fees) == Decimal("2.00")
    assert Journal.objects.count() == 400
    report = ledger_reconcile()
    assert report.problems == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_opposite_transfers_between_two_accounts_never_deadlock():
    alice_cash = CashAccountFactory(owner=UserFactory())
    bob_cash = CashAccountFactory(owner=UserFactory())
    deposit(alice_cash, Decimal("1000.00"))
    deposit(bob_cash, Decimal("1000.00"))
    ids = (alice_cash.pk, bob_cash.pk)

    def work(index: int) -> None:
        # Even threads list alice first, odd threads bob first: locks are still taken in id
        # order, so the database never sees a lock cycle.
        source_id, target_id = ids if index % 2 == 0 else ids[::-1]
        for _ in range(15):
            source = LedgerAccount.objects.get(pk=source_id)
            target = LedgerAccount.objects.get(pk=target_id)
            journal_post(
                kind=JournalKind.ADJUSTMENT,
                lines=[(source, Decimal("-3.33")), (target, Decimal("3.33"))],
            )

    errors = _run_threads(10, work)

    assert errors == []
    alice_cash.refresh_from_db()
    bob_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("1000.00")
    assert bob_cash.balance == Decimal("1000.00")
    assert ledger_reconcile().problems == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reversals_of_one_journal_post_exactly_one():
    alice_cash = CashAccountFactory()
    original = deposit(alice_cash, Decimal("50.00"))
    refusals: list[str] = []

    def work(index: int) -> None:
        try:
            journal_reverse(journal=Journal.objects.get(pk=original.pk), reason=f"try {index}")
        except LedgerError as exc:
            refusals.append(exc.code)

    errors = _run_threads(4, work)

    assert errors == []
    assert refusals == ["already_reversed"] * 3
    assert Journal.objects.filter(reverses=original).count() == 1
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("0.00")
