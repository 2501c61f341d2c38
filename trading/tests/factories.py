from decimal import Decimal

from accounts.tests.factories import UserFactory
from market.tests.factories import InstrumentFactory, QuoteFactory
from trading.services import account_open


def make_account(
    owner=None,
    *,
    balance: Decimal = Decimal("100000.00"),
    leverage: Decimal = Decimal("1"),
    name: str = "Main",
    **kwargs,
):
    """A trading account funded through the real ledger (a deposit journal)."""
    return account_open(
        owner=owner or UserFactory(),
        name=name,
        initial_balance=balance,
        max_leverage=leverage,
        **kwargs,
    )


def make_market(symbol: str = "TEST-USD", *, bid="99.99", ask="100.01", **instrument_fields):
    """An open 24/7 instrument with a quote at BID/ASK."""
    instrument = InstrumentFactory(symbol=symbol, **instrument_fields)
    QuoteFactory(
        instrument=instrument,
        bid=Decimal(bid),
        ask=Decimal(ask),
        last=(Decimal(bid) + Decimal(ask)) / 2,
    )
    instrument.refresh_from_db()
    return instrument
