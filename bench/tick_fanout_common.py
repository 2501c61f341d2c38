"""Shared pieces of the tick fan-out benchmark (no Django imports: the bare server and the
client processes use this too).

Every helper process speaks JSON lines: one command per line on stdin, one reply per line on
the real stdout. Anything else a process prints goes to stderr (its log file).
"""

import json
import os
import sys
import time

SYMBOL = "BTC-USD"
WS_PATH = f"/ws/market/{SYMBOL}/"


def stamped(base: dict, run: str, seq: int) -> dict:
    """The frame of tick SEQ of RUN: the real tick frame plus a `bench` member whose `sent_ns`
    (time.time_ns() just before encoding and publishing) is what latency is measured from."""
    return {**base, "bench": {"run": run, "seq": seq, "sent_ns": time.time_ns()}}


def reply_channel():
    """Keep the real stdout for replies and send every stray print to stderr."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr
    return out


def reply(out, **fields) -> None:
    out.write(json.dumps(fields, separators=(",", ":")) + "\n")
    out.flush()
