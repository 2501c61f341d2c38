"""Tick fan-out benchmark: the channels publisher process (started by bench.tick_fanout).

Sets Django up against the environment it is given (the same REDIS_URL, CHANNEL_PREFIX,
CHANNEL_CAPACITY and CHANNEL_EXPIRY as the daphne under test, so the layer config matches),
makes sure the market universe and its quotes exist, and publishes through the production
path: config.realtime.publish_frame_now(market.realtime.tick_group(symbol), frame).

Commands (JSON lines on stdin):
  {"cmd": "run", "run": id, "ticks": K, "interval": s}   publish K frames, one every s seconds
  {"cmd": "group_size"}                                   members of the tick group in Redis
  {"cmd": "quit"}
"""

import json
import os
import sys
import time

from bench.tick_fanout_common import SYMBOL, reply, reply_channel, stamped

MAX_TICKS = 10_000


def _setup() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from market.models import Instrument
    from market.realtime import tick_frame
    from market.seed import UNIVERSE
    from market.services import market_seed_quotes

    # Only the instruments and their quotes: the candle history of `manage.py seed` is slow
    # and the tick stream does not read it.
    for spec in UNIVERSE:
        fields = dict(spec)
        symbol = fields.pop("symbol")
        Instrument.objects.get_or_create(symbol=symbol, defaults=fields)
    market_seed_quotes()
    instrument = Instrument.objects.select_related("quote").get(symbol=SYMBOL)
    return tick_frame(SYMBOL, instrument.quote)


def _group_size() -> int:
    import redis
    from django.conf import settings

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    from market.realtime import tick_group

    host = config["hosts"][0]
    client = redis.Redis.from_url(host if isinstance(host, str) else host["address"])
    try:
        return client.zcard(f"{config['prefix']}:group:{tick_group(SYMBOL)}")
    finally:
        client.close()


def _run(base: dict, run: str, ticks: int, interval: float) -> dict:
    from config.realtime import publish_frame_now
    from market.realtime import tick_group

    group = tick_group(SYMBOL)
    ticks = max(0, min(int(ticks), MAX_TICKS))
    publish_ms = []
    first_ns = last_ns = None
    start = time.monotonic()
    for seq in range(ticks):
        delay = start + seq * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        frame = stamped(base, run, seq)
        if first_ns is None:
            first_ns = frame["bench"]["sent_ns"]
        last_ns = frame["bench"]["sent_ns"]
        began = time.perf_counter()
        publish_frame_now(group, frame)
        publish_ms.append((time.perf_counter() - began) * 1000)
    return {"ok": True, "first_ns": first_ns, "last_ns": last_ns, "publish_ms": publish_ms}


def main() -> None:
    out = reply_channel()
    base = _setup()
    from django.conf import settings

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    reply(
        out,
        ready=True,
        frame=base,
        layer={k: config[k] for k in ("prefix", "capacity", "expiry", "group_expiry")},
    )
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "run":
            reply(out, **_run(base, command["run"], command["ticks"], command["interval"]))
        elif command["cmd"] == "group_size":
            reply(out, ok=True, size=_group_size())
        elif command["cmd"] == "quit":
            reply(out, ok=True)
            return


if __name__ == "__main__":
    main()
