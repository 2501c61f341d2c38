"""Races on PostgreSQL with real threads: the account row lock must serialise everything."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from ledger.services import ledger_reconcile
from trading.models import Fill, Order, OrderStatus
from trading.selectors import account_state
from trading.services import OrderRequest, TradingError, order_place
from trading.tests.factories import make_account, make_market

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_in_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = []
    lock = threading.Lock()

    def runner(index: int) -> None:
        barrier.wait()
        try:
            outcome = work(index)
        except Exception as exc:  # collected and asserted by the test
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_fifty_concurrent_orders_never_overdraw_and_exactly_the_affordable_ones_fill():
    make_market(bid="99.99", ask="100.01")
    account = make_account(balance=Decimal("1000.00"))
    request = OrderRequest(symbol="TEST-USD", side="buy", type="market", quantity=Decimal("1"))

    def place_five(_index):
        outcomes = []
        for _ in range(5):
            try:
                order, _created = order_place(account=account, request=request)
                outcomes.append(order.status)
            except TradingError as refusal:
                outcomes.append(refusal.code)
        return outcomes

    results = run_in_threads(10, place_five)
    flat = [outcome for batch in results for outcome in batch]
    # Each fill costs 100.02 + 0.03 commission and leaves 0.03 of spread loss: after 9 fills
    # free margin is 99.55, short of the 100.04 the tenth needs (see the money model).
    assert flat.count(OrderStatus.FILLED) == 9
    assert flat.count("insufficient_buying_power") == 41
    assert Order.objects.count() == 9
    assert Fill.objects.count() == 9
    account.refresh_from_db()
    account.cash_account.refresh_from_db()
    state = account_state(account)
    assert state.free_margin >= 0
    assert ledger_reconcile().ok


def test_thirty_two_racing_requests_with_one_client_order_id_make_one_order():
    make_market()
    account = make_account()
    request = OrderRequest(
        symbol="TEST-USD",
        side="buy",
        type="limit",
        quantity=Decimal("1"),
        limit_price=Decimal("50.00"),
        client_order_id="retry-me",
    )

    results = run_in_threads(32, lambda _i: order_place(account=account, request=request)[0].pk)
    assert Order.objects.count() == 1
    order_id = Order.objects.get().pk
    assert results == [order_id] * 32
