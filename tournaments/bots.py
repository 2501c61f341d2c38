"""Simulated participants ("bots") that keep the seeded tournament's leaderboard moving.

Each step, every active bot entrant of a running tournament acts with some probability:
a market order, a limit order near the market, closing (part of) a position, or canceling a
resting order. Everything goes through the trading services, exactly as a person's orders do.

Bots place their orders with source "api": they are programs, and that is what the
tournament's "bots allowed" flag is about. They can only be entered where bots are allowed
(`tournament_join(is_bot=True)` refuses otherwise), so that rule never stops them there; if an
operator later turns bots off, their orders are refused (`bots_not_allowed`) like any other
program's, and the bots simply stop trading. They are labelled `is_bot` on the leaderboard.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime
from decimal import Decimal

from django.http import Http404
from django.utils import timezone

from config.api import DomainError
from config.money import ROUND_DOWN, quantize_step
from market.models import Instrument
from tournaments.models import Participant, TournamentStatus
from trading.models import OPEN_STATUSES, Order, OrderSource, OrderType, Position, Side
from trading.selectors import account_state
from trading.services import OrderRequest, order_cancel, order_place, position_close

logger = logging.getLogger(__name__)

ACTIVITY = 0.5  # chance that a bot acts in a step
_rng = random.Random()


def _bias(participant: Participant) -> float:
    """A bot's lasting taste for longs (0.3-0.7), so bots differ and the board spreads out."""
    return 0.3 + (participant.user_id * 7919 % 41) / 100


def _quantity(instrument: Instrument, notional: Decimal, price: Decimal) -> Decimal | None:
    if price <= 0:
        return None
    qty = quantize_step(notional / price, instrument.lot_size, ROUND_DOWN)
    qty = min(qty, instrument.max_quantity)
    return qty if qty >= instrument.min_quantity else None


def _instruments_for(participant: Participant, cache: dict) -> list[Instrument]:
    tournament_id = participant.tournament_id
    if tournament_id not in cache:
        allowed = participant.tournament.allowed_instruments.select_related("quote")
        instruments = list(allowed) or list(
            Instrument.objects.filter(is_halted=False).select_related("quote")[:10]
        )
        cache[tournament_id] = [i for i in instruments if hasattr(i, "quote")]
    return cache[tournament_id]


def _act(participant: Participant, instruments: list[Instrument], rng, now: datetime) -> str:
    account = participant.account
    roll = rng.random()
    if roll < 0.12:
        order = (
            Order.objects.filter(account=account, status__in=OPEN_STATUSES)
            .order_by("created_at")
            .first()
        )
        if order is not None:
            order_cancel(account=account, order_id=order.pk, now=now)
            return "cancel"
    if roll < 0.35:
        position = (
            Position.objects.filter(account=account, closed_at__isnull=True)
            .select_related("instrument")
            .order_by("?")
            .first()
        )
        if position is not None:
            percent = Decimal(rng.choice([50, 100]))
            position_close(
                account=account,
                symbol=position.instrument.symbol,
                percent=percent,
                source=OrderSource.API,
                now=now,
            )
            return "close"
    instrument = rng.choice(instruments)
    quote = instrument.quote
    side = Side.BUY if rng.random() < _bias(participant) else Side.SELL
    equity = account_state(account).equity
    leverage = min(account.max_leverage, instrument.max_leverage)
    notional = equity * Decimal(str(round(rng.uniform(0.05, 0.35), 3))) * leverage
    if roll < 0.8:
        price = quote.ask if side == Side.BUY else quote.bid
        qty = _quantity(instrument, notional, price)
        if qty is None:
            return "skip"
        request = OrderRequest(
            symbol=instrument.symbol, side=side, type=OrderType.MARKET, quantity=qty
        )
        order_place(account=account, request=request, source=OrderSource.API, now=now)
        return "market"
    away = Decimal(str(round(rng.uniform(0.0005, 0.004), 4)))
    mid = quote.mid
    raw = mid * (1 - away) if side == Side.BUY else mid * (1 + away)
    price = quantize_step(raw, instrument.tick_size, ROUND_DOWN)
    qty = _quantity(instrument, notional, price)
    if qty is None or price <= 0:
        return "skip"
    request = OrderRequest(
        symbol=instrument.symbol, side=side, type=OrderType.LIMIT, quantity=qty, limit_price=price
    )
    order_place(account=account, request=request, source=OrderSource.API, now=now)
    return "limit"


def bots_step(*, now: datetime | None = None, rng: random.Random | None = None) -> int:
    """One round of bot trading; returns how many bots acted. Refusals (buying power, market
    closed, rules) are normal for bots and only logged at debug level."""
    now = now or timezone.now()
    rng = rng or _rng
    bots = Participant.objects.filter(
        is_bot=True, disqualified_at__isnull=True, tournament__status=TournamentStatus.RUNNING
    ).select_related("account__cash_account", "account__rules", "tournament")
    acted = 0
    cache: dict = {}
    for participant in bots:
        if rng.random() > ACTIVITY:
            continue
        instruments = _instruments_for(participant, cache)
        if not instruments:
            continue
        try:
            what = _act(participant, instruments, rng, now)
        except (DomainError, Http404) as exc:
            logger.debug("bot %s: %s", participant.pk, exc)
            continue
        if what != "skip":
            acted += 1
    return acted
