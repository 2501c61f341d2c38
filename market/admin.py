"""Operators manage instruments here: add, halt/resume, tune volatility and spread."""

from django.contrib import admin, messages
from django.utils import timezone

from config.readonly_admin import ReadOnlyAdmin
from market.models import Candle, Instrument, Quote, ReplayBar, Watchlist
from market.services import market_seed_quotes


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = [
        "symbol",
        "name",
        "asset_class",
        "is_open_now",
        "is_halted",
        "feed",
        "volatility",
        "spread_bps",
        "max_leverage",
    ]
    list_editable = ["volatility", "spread_bps"]
    list_filter = ["asset_class", "is_halted", "feed"]
    search_fields = ["symbol", "name"]
    actions = ["halt", "resume"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["symbol", "name", "asset_class", "quote_currency", "is_halted"]}),
        (
            "Trading terms",
            {
                "fields": [
                    "tick_size",
                    "lot_size",
                    "min_quantity",
                    "max_quantity",
                    "max_leverage",
                    "commission_rate",
                    "min_commission",
                ]
            },
        ),
        (
            "Price model",
            {
                "fields": [
                    "feed",
                    "initial_price",
                    "volatility",
                    "drift",
                    "spread_bps",
                    "jump_intensity",
                    "jump_size",
                    "liquidity",
                ]
            },
        ),
        (
            "Session",
            {
                "fields": ["session_timezone", "session_open", "session_close", "session_days"],
                "description": "Weekdays as digits, Monday=0 ... Sunday=6. A close at or "
                "before the open runs past midnight (equal: 24 hours).",
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="open now")
    def is_open_now(self, obj: Instrument) -> bool:
        return obj.is_open_at(timezone.now())

    @admin.action(description="Halt trading and price moves")
    def halt(self, request, queryset):
        count = queryset.update(is_halted=True, updated_at=timezone.now())
        self.message_user(request, f"Halted {count} instrument(s).", messages.SUCCESS)

    @admin.action(description="Resume trading and price moves")
    def resume(self, request, queryset):
        count = queryset.update(is_halted=False, updated_at=timezone.now())
        self.message_user(request, f"Resumed {count} instrument(s).", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            market_seed_quotes()  # a new instrument starts quoting at its initial price


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["instrument", "bid", "ask", "last", "change_pct", "day_volume", "ts"]
    list_select_related = ["instrument"]
    search_fields = ["instrument__symbol"]


@admin.register(Candle)
class CandleAdmin(ReadOnlyAdmin):
    list_display = ["instrument", "timeframe", "ts", "open", "high", "low", "close", "volume"]
    list_filter = ["timeframe", "instrument"]
    list_select_related = ["instrument"]
    search_fields = ["instrument__symbol"]
    ordering = ["-ts"]
    show_full_result_count = False  # the table is large; skip the COUNT(*) of everything


@admin.register(ReplayBar)
class ReplayBarAdmin(ReadOnlyAdmin):
    list_display = ["instrument", "ts", "open", "high", "low", "close", "volume"]
    list_filter = ["instrument"]
    list_select_related = ["instrument"]
    ordering = ["instrument", "ts"]
    show_full_result_count = False


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ["user", "instrument", "position", "created_at"]
    list_select_related = ["user", "instrument"]
    raw_id_fields = ["user"]
