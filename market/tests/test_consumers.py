"""The tick sockets, through the real ASGI application (Redis channel layer when REDIS_URL
is set, the in-memory layer otherwise)."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.consumers import CLOSE_NOT_FOUND
from config.asgi import application
from config.realtime import publish_frame_now
from market.consumers import MAX_SYMBOLS_PER_SOCKET
from market.models import Quote
from market.realtime import tick_frame, tick_group
from market.tests.factories import InstrumentFactory, QuoteFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture
def btc():
    instrument = InstrumentFactory(symbol="BTC-USD")
    QuoteFactory(
        instrument=instrument,
        bid=Decimal("43125.5"),
        ask=Decimal("43126.5"),
        last=Decimal("43126"),
        volume=Decimal("0.25"),
        change_pct=Decimal("1.5"),
    )
    return instrument


@pytest.fixture
def eth():
    instrument = InstrumentFactory(symbol="ETH-USD")
    QuoteFactory(instrument=instrument)
    return instrument


async def connect(path="/ws/market/"):
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def publish(instrument, **changes):
    quote = await sync_to_async(Quote.objects.get)(pk=instrument.pk)
    for field, value in changes.items():
        setattr(quote, field, value)
    frame = tick_frame(instrument.symbol, quote)
    await sync_to_async(publish_frame_now)(tick_group(instrument.symbol), frame)
    return frame


async def test_subscribe_answers_with_the_symbols_and_a_snapshot_then_relays_ticks(btc):
    ws = await connect()
    await ws.send_json_to({"type": "subscribe", "symbols": ["btc-usd"]})
    assert await ws.receive_json_from(timeout=5) == {"type": "subscribed", "symbols": ["BTC-USD"]}
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["type"] == "tick"
    assert snapshot["snapshot"] is True
    assert snapshot["symbol"] == "BTC-USD"
    assert (snapshot["bid"], snapshot["ask"], snapshot["last"]) == (
        "43125.50",
        "43126.50",
        "43126.00",
    )
    assert snapshot["volume"] == "0.25"
    frame = await publish(btc, last=Decimal("43200.00"))
    assert await ws.receive_json_from(timeout=5) == frame
    await ws.disconnect()


async def test_unsubscribe_stops_the_ticks(btc, eth):
    ws = await connect()
    await ws.send_json_to({"type": "subscribe", "symbols": ["BTC-USD", "ETH-USD"]})
    assert (await ws.receive_json_from(timeout=5))["symbols"] == ["BTC-USD", "ETH-USD"]
    await ws.receive_json_from(timeout=5)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "unsubscribe", "symbols": ["BTC-USD"]})
    assert await ws.receive_json_from(timeout=5) == {"type": "unsubscribed", "symbols": ["ETH-USD"]}
    await publish(btc)
    eth_frame = await publish(eth)
    # Frames of one socket arrive in order: the ETH tick is the next message, not BTC's.
    assert await ws.receive_json_from(timeout=5) == eth_frame
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_unknown_symbols_get_an_error_and_the_known_ones_are_subscribed(btc):
    ws = await connect()
    await ws.send_json_to({"type": "subscribe", "symbols": ["NOPE", "BTC-USD", "bad symbol!"]})
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "unknown_symbol"
    assert "NOPE" in error["detail"]
    assert await ws.receive_json_from(timeout=5) == {"type": "subscribed", "symbols": ["BTC-USD"]}
    await ws.receive_json_from(timeout=5)  # snapshot
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    await ws.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_message"),
        ("[1, 2]", "bad_message"),
        ('{"symbols": ["BTC-USD"]}', "bad_message"),
        ('{"type": "subscribe"}', "bad_symbols"),
        ('{"type": "subscribe", "symbols": "BTC-USD"}', "bad_symbols"),
        ('{"type": "subscribe", "symbols": []}', "bad_symbols"),
        ('{"type": "subscribe", "symbols": [1, null]}', "bad_symbols"),
        ('{"type": "unsubscribe", "symbols": {"a": 1}}', "bad_symbols"),
        ('{"type": "dance"}', "unknown_type"),
    ],
)
async def test_malformed_messages_get_an_error_and_the_socket_stays_open(raw, code):
    ws = await connect()
    await ws.send_to(text_data=raw)
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == code
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    await ws.disconnect()


async def test_a_socket_follows_a_bounded_number_of_symbols():
    symbols = [f"S{i}" for i in range(MAX_SYMBOLS_PER_SOCKET + 1)]
    await sync_to_async(lambda: [InstrumentFactory(symbol=s) for s in symbols])()
    ws = await connect()
    await ws.send_json_to({"type": "subscribe", "symbols": symbols[:MAX_SYMBOLS_PER_SOCKET]})
    subscribed = await ws.receive_json_from(timeout=5)
    assert len(subscribed["symbols"]) == MAX_SYMBOLS_PER_SOCKET
    await ws.send_json_to({"type": "subscribe", "symbols": symbols[-1:]})
    error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "too_many_symbols"
    # Re-subscribing to symbols already followed is not counted twice.
    await ws.send_json_to({"type": "subscribe", "symbols": symbols[:2]})
    again = await ws.receive_json_from(timeout=5)
    assert len(again["symbols"]) == MAX_SYMBOLS_PER_SOCKET
    await ws.disconnect()


async def test_one_message_cannot_list_more_than_the_limit():
    ws = await connect()
    await ws.send_json_to({"type": "subscribe", "symbols": ["X"] * (MAX_SYMBOLS_PER_SOCKET + 1)})
    assert (await ws.receive_json_from(timeout=5))["code"] == "bad_symbols"
    await ws.disconnect()


async def test_the_instrument_socket_streams_without_subscribing(btc, eth):
    ws = await connect("/ws/market/btc-usd/")
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["symbol"] == "BTC-USD"
    assert snapshot["snapshot"] is True
    await publish(eth)
    frame = await publish(btc, bid=Decimal("43130.00"))
    assert await ws.receive_json_from(timeout=5) == frame
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    await ws.disconnect()


async def test_the_instrument_socket_of_an_unknown_symbol_closes_with_4404():
    ws = await connect("/ws/market/NOPE/")
    error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "not_found"
    assert await ws.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_NOT_FOUND,
    }


async def test_an_instrument_without_a_quote_streams_without_a_snapshot():
    instrument = await sync_to_async(InstrumentFactory)(symbol="NEW-USD")
    ws = await connect(f"/ws/market/{instrument.symbol}/")
    assert await ws.receive_nothing(timeout=0.2)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    await ws.disconnect()
