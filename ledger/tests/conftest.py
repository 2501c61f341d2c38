import pytest

from accounts.tests.factories import UserFactory
from ledger.tests.factories import CashAccountFactory


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", display_name="bob")


@pytest.fixture
def alice_cash(alice):
    return CashAccountFactory(owner=alice, name="Alice main")


@pytest.fixture
def bob_cash(bob):
    return CashAccountFactory(owner=bob, name="Bob main")
