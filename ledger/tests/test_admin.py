from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger.models import HOUSE_FEES, Journal, JournalKind, LedgerAccount, Posting
from ledger.services import house_account
from ledger.tests.factories import deposit

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:ledger_ledgeraccount_changelist"


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def operator():
    """Staff, not superuser: may view ledger accounts and post adjustments."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="ledger", codename="view_ledgeraccount"),
        Permission.objects.get(content_type__app_label="ledger", codename="post_adjustment"),
    )
    return user


@pytest.fixture
def viewer():
    """Staff who may view the ledger but not adjust it."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="ledger").exclude(
            codename="post_adjustment"
        )
    )
    return user


def _action(client, accounts, **form):
    data = {"action": "post_adjustment", ACTION_CHECKBOX_NAME: [a.pk for a in accounts], **form}
    return client.post(reverse(CHANGELIST), data)


def test_the_adjustment_action_asks_for_amount_and_reason_first(client, operator, alice_cash):
    client.force_login(operator)

    response = _action(client, [alice_cash], index="0")

    assert response.status_code == 200
    assert b'name="reason"' in response.content
    assert b'name="amount"' in response.content
    assert alice_cash.code.encode() in response.content
    assert not Journal.objects.exists()


def test_an_operator_posts_an_adjustment_journal_with_the_reason(client, operator, alice_cash):
    deposit(alice_cash, Decimal("100.00"))
    client.force_login(operator)

    response = _action(
        client, [alice_cash], apply="1", amount="-12.50", reason="Duplicate prize refunded"
    )

    assert response.status_code == 302
    journal = Journal.objects.get(kind=JournalKind.ADJUSTMENT)
    assert journal.reason == "Duplicate prize refunded"
    assert journal.created_by == operator
    assert journal.postings.get(account=alice_cash).amount == Decimal("-12.50")
    alice_cash.refresh_from_db()
    assert alice_cash.balance == Decimal("87.50")


def test_an_adjustment_without_a_reason_redisplays_the_form_and_posts_nothing(
    client, operator, alice_cash
):
    client.force_login(operator)

    response = _action(client, [alice_cash], apply="1", amount="10.00", reason="   ")

    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Journal.objects.exists()


@pytest.mark.parametrize("amount", ["0", "0.001", "ten", "NaN"])
def test_an_adjustment_with_a_bad_amount_posts_nothing(client, operator, alice_cash, amount):
    client.force_login(operator)

    response = _action(client, [alice_cash], apply="1", amount=amount, reason="x")

    assert response.status_code == 200
    assert not Journal.objects.exists()


def test_house_accounts_cannot_be_adjusted(client, operator):
    fees = house_account(HOUSE_FEES)
    client.force_login(operator)

    response = _action(client, [fees], apply="1", amount="10.00", reason="x")

    assert response.status_code == 302
    assert not Journal.objects.exists()


def test_only_staff_with_the_permission_are_offered_the_action(
    client, operator, viewer, alice_cash
):
    client.force_login(operator)
    assert b'value="post_adjustment"' in client.get(reverse(CHANGELIST)).content

    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST))
    response = _action(client, [alice_cash], apply="1", amount="10.00", reason="x")

    assert page.status_code == 200
    assert b'value="post_adjustment"' not in page.content
    assert response.status_code == 200  # the changelist again: there is no such action
    assert not Journal.objects.exists()


@pytest.mark.parametrize("model", ["ledgeraccount", "journal", "posting"])
def test_nobody_can_add_ledger_rows_in_the_admin(client, superuser, model):
    client.force_login(superuser)

    assert client.get(reverse(f"admin:ledger_{model}_add")).status_code == 403


def test_nobody_can_edit_or_delete_a_posting_in_the_admin(client, superuser, alice_cash):
    posting = deposit(alice_cash, Decimal("5.00")).postings.get(account=alice_cash)
    client.force_login(superuser)
    change_url = reverse("admin:ledger_posting_change", args=[posting.pk])

    page = client.get(change_url)
    edit = client.post(change_url, {"amount": "500.00", "balance_after": "500.00"})
    delete = client.post(reverse("admin:ledger_posting_delete", args=[posting.pk]), {"post": "yes"})

    assert page.status_code == 200  # viewable, read-only
    assert b'name="amount"' not in page.content
    assert edit.status_code == 403
    assert delete.status_code == 403
    posting.refresh_from_db()
    assert posting.amount == Decimal("5.00")
    assert Posting.objects.count() == 2


def test_journals_and_accounts_are_read_only_in_the_admin(client, superuser, alice_cash):
    journal = deposit(alice_cash, Decimal("5.00"))
    client.force_login(superuser)

    journal_page = client.get(reverse("admin:ledger_journal_change", args=[journal.pk]))
    journal_edit = client.post(
        reverse("admin:ledger_journal_change", args=[journal.pk]), {"memo": "edited"}
    )
    account_edit = client.post(
        reverse("admin:ledger_ledgeraccount_change", args=[alice_cash.pk]), {"balance": "1e6"}
    )
    account_delete = client.post(
        reverse("admin:ledger_ledgeraccount_delete", args=[alice_cash.pk]), {"post": "yes"}
    )

    assert journal_page.status_code == 200
    assert b"5.00" in journal_page.content  # the postings inline
    assert journal_edit.status_code == 403
    assert account_edit.status_code == 403
    assert account_delete.status_code == 403
    journal.refresh_from_db()
    alice_cash.refresh_from_db()
    assert journal.memo == "Test deposit"
    assert alice_cash.balance == Decimal("5.00")
    assert LedgerAccount.objects.filter(pk=alice_cash.pk).exists()


@pytest.mark.parametrize("model", ["ledgeraccount", "journal", "posting"])
def test_ledger_changelists_use_a_bounded_number_of_queries(
    client, superuser, alice_cash, bob_cash, model, django_assert_max_num_queries
):
    for _ in range(10):
        deposit(alice_cash, Decimal("1.00"))
        deposit(bob_cash, Decimal("1.00"))
    client.force_login(superuser)

    with django_assert_max_num_queries(15):
        response = client.get(reverse(f"admin:ledger_{model}_changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize("query", ["abc", "42", "cash:"])
def test_ledger_admin_search_accepts_any_text(client, superuser, alice_cash, query):
    deposit(alice_cash, Decimal("1.00"))
    client.force_login(superuser)

    for model in ("ledgeraccount", "journal", "posting"):
        response = client.get(reverse(f"admin:ledger_{model}_changelist"), {"q": query})
        assert response.status_code == 200
