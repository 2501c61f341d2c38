"""Tick streams: group names and the tick frame (the contract between publisher and sockets)."""

from market.models import Quote


def tick_group(symbol: str) -> str:
    """Channel group of one instrument's ticks (symbols are ASCII letters, digits and '-')."""
    return f"market.{symbol}"


def tick_frame(symbol: str, quote: Quote) -> dict:
    """The `tick` message of api.md; decimals as strings, ts in ISO 8601 UTC."""
    return {
        "type": "tick",
        "symbol": symbol,
        "bid": str(quote.bid),
        "ask": str(quote.ask),
        "last": str(quote.last),
        "volume": str(quote.volume),
        "change_pct": str(quote.change_pct),
        "ts": quote.ts.isoformat().replace("+00:00", "Z"),
    }
