from decimal import Decimal

import pytest
from django.db.models import ProtectedError

from accounts.tests.factories import UserFactory
from ledger.models import (
    HOUSE_ACCOUNTS,
    HOUSE_ADJUSTMENTS,
    HOUSE_CAPITAL,
    HOUSE_FEES,
    AccountKind,
    Journal,
    JournalKind,
    LedgerAccount,
    Posting,
)
from ledger.selectors import account_balance, account_balance_from_postings, postings_for_account
from ledger.services import (
    LedgerError,
    adjustment_post,
    cash_account_open,
    house_account,
    journal_post,
    journal_reverse,
)
from ledger.tests.factories import CashAccountFactory, deposit

pytestmark = pytest.mark.django_db


def _nothing_written() -> bool:
    return not Journal.objects.exists() and not Posting.objects.exists()


def test_it_opens_an_empty_cash_account_for_its_owner(alice):
    account = cash_account_open(owner=alice, name="Main")

    account.refresh_from_db()
    assert account.kind == AccountKind.CASH
    assert account.balance == Decimal("0.00")
    assert account.currency == "USD"
    assert account.owner == alice
    assert account.code.startswith("cash:")
    assert cash_account_open(owner=alice, name="Second").code != account.code


def test_a_long_cash_account_name_is_cut_to_fit(alice):
    account = cash_account_open(owner=alice, name="x" * 300)
    account.refresh_from_db()
    assert account.name == "x" * 100


def test_house_accounts_are_created_once_and_keep_no_cached_balance():
    capital = house_account(HOUSE_CAPITAL)

    assert house_account(HOUSE_CAPITAL).pk == capital.pk
    assert capital.kind == AccountKind.HOUSE
    assert capital.name == HOUSE_ACCOUNTS[HOUSE_CAPITAL]
    assert capital.balance is None


def test_it_refuses_an_unknown_house_account():
    with pytest.raises(LedgerError) as exc:
        house_account("house:free_money")
    assert exc.value.code == "unknown_house_account"
    assert not LedgerAccount.objects.exists()


def test_a_balanced_journal_posts_and_updates_the_cached_balance(alice_cash):
    capital = house_account(HOUSE_CAPITAL)
    fees = house_account(HOUSE_FEES)

    deposit(alice_cash, Decimal("500.00"))
    journal = journal_post(
        kind=JournalKind.COMMISSION,
        lines=[(alice_cash, Decimal("-0.02")), (fees, Decimal("0.02"))],
        memo="Commission",
        reference_type="fill",
        reference_id="42",
    )

    # The instance passed in is refreshed, and so is the row.
    assert alice_cash.balance == Decimal("499.98")
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("499.98")
    assert journal.reference_type == "fill"
    assert journal.reference_id == "42"
    postings = {p.account_id: p for p in journal.postings.all()}
    assert postings[alice_cash.pk].amount == Decimal("-0.02")
    assert postings[alice_cash.pk].balance_after == Decimal("499.98")
    assert postings[fees.pk].amount == Decimal("0.02")
    assert postings[fees.pk].balance_after is None
    # House accounts: no cached balance, their balance is summed from postings.
    capital.refresh_from_db()
    fees.refresh_from_db()
    assert capital.balance is None
    assert fees.balance is None
    assert account_balance(capital) == Decimal("-500.00")
    assert account_balance(fees) == Decimal("0.02")
    assert account_balance(alice_cash) == Decimal("499.98")
    assert account_balance_from_postings(alice_cash) == Decimal("499.98")


def test_one_journal_may_post_twice_to_the_same_account_and_chains_balance_after(alice_cash):
    fees = house_account(HOUSE_FEES)
    deposit(alice_cash, Decimal("10.00"))

    journal = journal_post(
        kind=JournalKind.COMMISSION,
        lines=[
            (alice_cash, Decimal("-1.00")),
            (alice_cash, Decimal("-0.50")),
            (fees, Decimal("1.50")),
        ],
    )

    cash_postings = journal.postings.filter(account=alice_cash).order_by("id")
    assert [p.balance_after for p in cash_postings] == [Decimal("9.00"), Decimal("8.50")]
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("8.50")


def test_a_transfer_between_two_cash_accounts_moves_exactly_the_amount(alice_cash, bob_cash):
    deposit(alice_cash, Decimal("100.00"))

    journal_post(
        kind=JournalKind.PRIZE,
        lines=[(alice_cash, Decimal("-33.33")), (bob_cash, Decimal("33.33"))],
    )

    alice_cash.refresh_from_db()
    bob_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("66.67")
    assert bob_cash.balance == Decimal("33.33")


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "empty"),
        ([("alice", Decimal("10.00")), ("capital", Decimal("-9.99"))], "unbalanced"),
        ([("alice", Decimal("10.00"))], "unbalanced"),
        ([("alice", Decimal("0.001")), ("capital", Decimal("-0.001"))], "not_cash_precision"),
        ([("alice", Decimal("1.005")), ("capital", Decimal("-1.005"))], "not_cash_precision"),
        ([("alice", Decimal("0.00")), ("capital", Decimal("0.00"))], "zero_amount"),
        ([("alice", 10.0), ("capital", -10.0)], "not_decimal"),
        ([("alice", 10), ("capital", -10)], "not_decimal"),
        ([("alice", Decimal("NaN")), ("capital", Decimal("NaN"))], "not_decimal"),
        ([("alice", Decimal("Infinity")), ("capital", Decimal("-Infinity"))], "not_decimal"),
        ([("alice", Decimal("1e13")), ("capital", Decimal("-1e13"))], "amount_too_large"),
        ([("alice", Decimal("1.00")), ("euro", Decimal("-1.00"))], "currency_mismatch"),
    ],
)
def test_it_refuses_a_bad_journal_and_writes_nothing(alice_cash, lines, code):
    accounts = {
        "alice": alice_cash,
        "capital": house_account(HOUSE_CAPITAL),
        "euro": CashAccountFactory(currency="EUR"),
    }

    with pytest.raises(LedgerError) as exc:
        journal_post(
            kind=JournalKind.DEPOSIT, lines=[(accounts[name], amount) for name, amount in lines]
        )

    assert exc.value.code == code
    assert _nothing_written()
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("0.00")


def test_it_refuses_an_unknown_journal_kind(alice_cash):
    capital = house_account(HOUSE_CAPITAL)
    with pytest.raises(LedgerError) as exc:
        journal_post(
            kind="gift", lines=[(alice_cash, Decimal("1.00")), (capital, Decimal("-1.00"))]
        )
    assert exc.value.code == "unknown_kind"
    assert _nothing_written()


def test_it_refuses_an_unsaved_account():
    unsaved = LedgerAccount(code="cash:x", kind=AccountKind.CASH, name="x", balance=0)
    capital = house_account(HOUSE_CAPITAL)
    with pytest.raises(LedgerError) as exc:
        journal_post(
            kind=JournalKind.DEPOSIT,
            lines=[(unsaved, Decimal("1.00")), (capital, Decimal("-1.00"))],
        )
    assert exc.value.code == "unknown_account"
    assert _nothing_written()


def test_it_refuses_a_balance_beyond_the_ledger_precision_and_writes_nothing(alice_cash):
    big = Decimal("9999999999999.99")
    deposit(alice_cash, big)

    with pytest.raises(LedgerError) as exc:
        deposit(alice_cash, Decimal("0.01"))

    assert exc.value.code == "balance_too_large"
    assert Journal.objects.count() == 1
    alice_cash.refresh_from_db()
    assert alice_cash.balance == big


def test_an_operator_adjustment_records_the_operator_and_the_reason(alice_cash):
    operator = UserFactory(is_staff=True)
    deposit(alice_cash, Decimal("100.00"))

    journal = adjustment_post(
        account=alice_cash,
        amount=Decimal("-12.34"),
        reason="  Refund of a duplicated prize  ",
        operator=operator,
    )

    assert journal.kind == JournalKind.ADJUSTMENT
    assert journal.reason == "Refund of a duplicated prize"
    assert journal.created_by == operator
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("87.66")
    assert account_balance(house_account(HOUSE_ADJUSTMENTS)) == Decimal("12.34")


def test_an_adjustment_needs_a_reason_and_a_cash_account(alice_cash):
    with pytest.raises(LedgerError) as exc:
        adjustment_post(account=alice_cash, amount=Decimal("1.00"), reason="  ", operator=None)
    assert exc.value.code == "reason_required"
    with pytest.raises(LedgerError) as exc:
        adjustment_post(
            account=house_account(HOUSE_FEES), amount=Decimal("1.00"), reason="x", operator=None
        )
    assert exc.value.code == "not_cash_account"
    assert _nothing_written()


def test_a_reversal_is_a_new_journal_that_cancels_the_original(alice_cash):
    operator = UserFactory(is_staff=True)
    original = deposit(alice_cash, Decimal("250.00"), reference_type="order", reference_id="7")

    reversal = journal_reverse(journal=original, reason="Posted twice", created_by=operator)

    assert reversal.pk != original.pk
    assert reversal.reverses == original
    assert reversal.kind == original.kind
    assert reversal.reason == "Posted twice"
    assert reversal.created_by == operator
    assert reversal.reference_type == "journal"
    assert reversal.reference_id == str(original.pk)
    assert sorted(p.amount for p in reversal.postings.all()) == [
        Decimal("-250.00"),
        Decimal("250.00"),
    ]
    # The original is untouched.
    assert sorted(p.amount for p in original.postings.all()) == [
        Decimal("-250.00"),
        Decimal("250.00"),
    ]
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("0.00")
    assert account_balance(house_account(HOUSE_CAPITAL)) == Decimal("0.00")


def test_a_journal_is_reversed_at_most_once(alice_cash):
    original = deposit(alice_cash, Decimal("5.00"))
    journal_reverse(journal=original, reason="Mistake")

    with pytest.raises(LedgerError) as exc:
        journal_reverse(journal=original, reason="Again")

    assert exc.value.code == "already_reversed"
    assert Journal.objects.count() == 2
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("0.00")


def test_postings_for_an_account_are_listed_newest_first_with_their_journal(
    alice_cash, bob_cash, django_assert_num_queries
):
    first = deposit(alice_cash, Decimal("1.00"))
    deposit(bob_cash, Decimal("2.00"))
    second = deposit(alice_cash, Decimal("3.00"))

    with django_assert_num_queries(1):
        rows = [(p.journal.pk, p.amount, p.balance_after) for p in postings_for_account(alice_cash)]

    assert rows == [
        (second.pk, Decimal("3.00"), Decimal("4.00")),
        (first.pk, Decimal("1.00"), Decimal("1.00")),
    ]


def test_a_user_with_ledger_history_cannot_be_deleted(alice, alice_cash):
    deposit(alice_cash, Decimal("1.00"))

    with pytest.raises(ProtectedError):
        alice.delete()

    assert LedgerAccount.objects.filter(pk=alice_cash.pk).exists()


def test_an_operator_who_posted_an_adjustment_cannot_be_deleted(alice_cash):
    operator = UserFactory(is_staff=True)
    adjustment_post(account=alice_cash, amount=Decimal("1.00"), reason="x", operator=operator)

    with pytest.raises(ProtectedError):
        operator.delete()


def test_a_ledger_account_with_postings_cannot_be_deleted(alice_cash):
    deposit(alice_cash, Decimal("1.00"))

    with pytest.raises(ProtectedError):
        alice_cash.delete()


def test_a_user_without_ledger_history_can_still_be_deleted():
    carol = UserFactory()
    carol.delete()
    assert not type(carol).objects.filter(pk=carol.pk).exists()
