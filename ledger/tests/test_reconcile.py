import logging
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils.module_loading import import_string

from config.celery import app as celery_app
from config.jobs import JOBS
from ledger.models import (
    HOUSE_CAPITAL,
    HOUSE_FEES,
    HOUSE_TRADING_PNL,
    Journal,
    JournalKind,
    LedgerAccount,
)
from ledger.services import house_account, journal_post, ledger_reconcile
from ledger.tasks import reconcile_ledger
from ledger.tests.factories import CashAccountFactory, deposit

pytestmark = pytest.mark.django_db


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@contextmanager
def ledger_guards_off():
    """Let a test corrupt the ledger as a bug or a manual edit could.

    On PostgreSQL, first settle the deferred checks of what was posted so far, then turn user
    triggers off for the rest of this (never committed) test transaction only; SQLite has no
    ledger triggers."""
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
        _sql("SET CONSTRAINTS ALL DEFERRED")
        _sql("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            _sql("SET LOCAL session_replication_role = origin")


def _insert_posting(journal_id: int, account_id: int, amount: str) -> None:
    _sql(
        "INSERT INTO ledger_posting (journal_id, account_id, amount, created_at)"
        " VALUES (%s, %s, %s, CURRENT_TIMESTAMP)",
        [journal_id, account_id, amount],
    )


@pytest.fixture
def book(alice_cash, bob_cash):
    """A small sound book: deposits, commissions, a realised loss, a three-way journal."""
    fees = house_account(HOUSE_FEES)
    pnl = house_account(HOUSE_TRADING_PNL)
    deposit(alice_cash, Decimal("500.00"))
    deposit(bob_cash, Decimal("1000.00"))
    journal_post(
        kind=JournalKind.COMMISSION,
        lines=[(alice_cash, Decimal("-0.02")), (fees, Decimal("0.02"))],
    )
    # Amounts that are not binary fractions: SQLite sums them as REAL.
    journal_post(
        kind=JournalKind.TRADE_PNL,
        lines=[
            (alice_cash, Decimal("0.10")),
            (bob_cash, Decimal("0.20")),
            (pnl, Decimal("-0.30")),
        ],
    )
    return {"alice": alice_cash, "bob": bob_cash}


def _codes(report) -> set[str]:
    return {problem.code for problem in report.problems}


def test_a_sound_book_reconciles(book):
    report = ledger_reconcile()

    assert report.ok, report.problems
    assert report.journals == 4
    assert report.postings == 9
    assert report.cash_accounts == 2
    assert report.house_accounts == 3
    assert report.book_totals == {"USD": Decimal("0.00")}


def test_an_empty_ledger_reconciles():
    report = ledger_reconcile()
    assert report.ok
    assert report.book_totals == {}


def test_it_names_a_cached_balance_that_differs_from_its_postings(book):
    alice = book["alice"]
    # The cached balance is an ordinary column: nothing but reconciliation guards it.
    LedgerAccount.objects.filter(pk=alice.pk).update(balance=Decimal("123.45"))

    report = ledger_reconcile()

    assert _codes(report) == {"cash_balance_mismatch"}
    (problem,) = report.problems
    assert alice.code in problem.message
    assert "123.45" in problem.message
    assert "500.08" in problem.message


def test_it_names_an_unbalanced_journal_and_the_unbalanced_book(book):
    journal = Journal.objects.filter(kind=JournalKind.COMMISSION).get()
    with ledger_guards_off():
        _insert_posting(journal.pk, house_account(HOUSE_FEES).pk, "0.01")

        report = ledger_reconcile()

    assert _codes(report) == {"journal_unbalanced", "book_unbalanced"}
    messages = " | ".join(p.message for p in report.problems)
    assert f"journal #{journal.pk} postings sum to 0.01" in messages
    assert "the USD book sums to 0.01" in messages


def test_it_names_an_edited_cash_posting(book):
    alice = book["alice"]
    journal = Journal.objects.filter(kind=JournalKind.COMMISSION).get()
    with ledger_guards_off():
        _sql(
            "UPDATE ledger_posting SET amount = -2.00 WHERE journal_id = %s AND account_id = %s",
            [journal.pk, alice.pk],
        )

        report = ledger_reconcile()

    assert _codes(report) == {
        "journal_unbalanced",
        "cash_balance_mismatch",
        "balance_after_chain_broken",
        "book_unbalanced",
    }


def test_it_names_an_empty_journal_and_a_cash_posting_without_balance_after(book):
    alice = book["alice"]
    with ledger_guards_off():
        _sql(
            "INSERT INTO ledger_journal (kind, memo, reference_type, reference_id, reason,"
            " created_at) VALUES ('deposit', 'empty', '', '', '', CURRENT_TIMESTAMP)"
        )
        empty = Journal.objects.get(memo="empty")
        # A raw cash posting that bypassed journal_post: no balance_after, no cached update.
        twin = Journal.objects.filter(kind=JournalKind.COMMISSION).get()
        _insert_posting(twin.pk, alice.pk, "5.00")
        _insert_posting(twin.pk, house_account(HOUSE_CAPITAL).pk, "-5.00")

        report = ledger_reconcile()

    assert _codes(report) == {"journal_empty", "balance_after_misplaced", "cash_balance_mismatch"}
    assert f"journal #{empty.pk} has no postings" in [p.message for p in report.problems]


def test_it_names_a_journal_that_mixes_currencies(book):
    euro = CashAccountFactory(currency="EUR", balance=Decimal("0.00"))
    journal = Journal.objects.filter(kind=JournalKind.COMMISSION).get()
    with ledger_guards_off():
        _insert_posting(journal.pk, euro.pk, "1.00")
        _insert_posting(journal.pk, house_account(HOUSE_FEES).pk, "-1.00")

        report = ledger_reconcile()

    assert "journal_mixed_currency" in _codes(report)
    assert report.book_totals == {"USD": Decimal("-1.00"), "EUR": Decimal("1.00")}


def test_the_command_prints_a_summary_on_a_sound_book(book, capsys):
    call_command("reconcile_ledger")

    out = capsys.readouterr().out
    assert "Ledger reconciled: 4 journals, 9 postings, 2 cash accounts" in out
    assert "book total 0.00 USD" in out


def test_the_command_exits_non_zero_and_names_each_problem(book, capsys):
    alice, bob = book["alice"], book["bob"]
    LedgerAccount.objects.filter(pk__in=[alice.pk, bob.pk]).update(balance=Decimal("1.00"))

    with pytest.raises(CommandError, match="does NOT reconcile: 2 problem") as exc:
        call_command("reconcile_ledger")

    assert exc.value.returncode == 1
    err = capsys.readouterr().err
    assert f"cash_balance_mismatch: cash account {alice.code}" in err
    assert f"cash_balance_mismatch: cash account {bob.code}" in err


def test_the_scheduled_job_logs_each_problem(book, caplog):
    alice = book["alice"]
    LedgerAccount.objects.filter(pk=alice.pk).update(balance=Decimal("0.00"))

    with caplog.at_level(logging.ERROR, logger="ledger.services"):
        result = reconcile_ledger.delay()

    assert result.get() is False
    assert any(alice.code in record.getMessage() for record in caplog.records)
    assert any("does NOT reconcile" in record.getMessage() for record in caplog.records)


def test_the_scheduled_job_passes_on_a_sound_book(book):
    assert reconcile_ledger.delay().get() is True


def test_reconciliation_is_a_registered_job():
    (job,) = [job for job in JOBS if job.task == "ledger.tasks.reconcile_ledger"]

    assert job.queue == "default"
    assert job.interval == 300
    assert callable(import_string(job.service))
    assert job.task in celery_app.tasks
    assert celery_app.conf.beat_schedule[job.name]["task"] == job.task
