import pytest

from accounts.tests.factories import UserFactory
from trading.tests.factories import make_market


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", display_name="bob")


@pytest.fixture
def carol(db):
    return UserFactory(email="carol@example.com", display_name="carol")


@pytest.fixture
def market(db):
    """An open 24/7 instrument TEST-USD quoted 99.99 / 100.01."""
    return make_market("TEST-USD")


@pytest.fixture
def other_market(db):
    return make_market("OTHER-USD")
