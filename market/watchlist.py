"""Writes to a user's watchlist (the market app's services module belongs to the tick pipeline).

Semantics, shared by the page and the API:
- adding a symbol that is already on the list is idempotent: the existing entry is returned and
  nothing changes (the API answers 200 instead of 201);
- a watchlist holds at most WATCHLIST_MAX_ENTRIES instruments (409 `watchlist_full` beyond);
- removing a symbol that is not on the list refuses with `not_watched` (404 in the API).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from rest_framework import status

from config.api import ConflictError, DomainError
from market.models import Instrument, Watchlist

WATCHLIST_MAX_ENTRIES = 100


class UnknownSymbol(DomainError):
    status = status.HTTP_400_BAD_REQUEST


class NotWatched(DomainError):
    status = status.HTTP_404_NOT_FOUND


@dataclass(frozen=True)
class WatchlistAdded:
    entry: Watchlist
    created: bool


def _instrument(symbol: str) -> Instrument:
    instrument = Instrument.objects.filter(symbol=symbol.strip().upper()).first()
    if instrument is None:
        raise UnknownSymbol("unknown_symbol", f"No instrument {symbol!r}.", field="symbol")
    return instrument


@transaction.atomic
def watchlist_add(*, user, symbol: str) -> WatchlistAdded:
    """Put SYMBOL at the end of USER's watchlist (idempotent).

    Locks the user's row so that two concurrent adds cannot both pass the size check.
    Raises UnknownSymbol (400) or ConflictError `watchlist_full` (409); writes nothing then.
    """
    instrument = _instrument(symbol)
    get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
    existing = Watchlist.objects.filter(user=user, instrument=instrument).first()
    if existing is not None:
        return WatchlistAdded(entry=existing, created=False)
    entries = Watchlist.objects.filter(user=user)
    if entries.count() >= WATCHLIST_MAX_ENTRIES:
        raise ConflictError(
            "watchlist_full", f"A watchlist holds at most {WATCHLIST_MAX_ENTRIES} instruments."
        )
    last = entries.aggregate(last=Max("position"))["last"]
    entry = Watchlist.objects.create(
        user=user, instrument=instrument, position=0 if last is None else last + 1
    )
    return WatchlistAdded(entry=entry, created=True)


@transaction.atomic
def watchlist_remove(*, user, symbol: str) -> None:
    """Take SYMBOL off USER's watchlist; raises NotWatched (404) when it is not on it."""
    deleted, _ = Watchlist.objects.filter(
        user=user, instrument__symbol=symbol.strip().upper()
    ).delete()
    if not deleted:
        raise NotWatched("not_watched", f"{symbol.upper()} is not on your watchlist.")
