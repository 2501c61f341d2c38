"""Read-only views of trading for staff: money changes only through ledger adjustments."""

from django.contrib import admin

from config.readonly_admin import ReadOnlyAdmin
from trading.models import EquitySnapshot, Fill, Order, Position, TradingAccount, TradingRules


@admin.register(TradingAccount)
class TradingAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "name",
        "owner",
        "initial_balance",
        "max_leverage",
        "is_default",
        "is_archived",
    ]
    list_filter = ["is_default", "is_archived"]
    search_fields = ["name", "owner__email", "owner__display_name"]
    list_select_related = ["owner"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "account", "instrument", "side", "type", "quantity", "filled_quantity",
        "avg_fill_price", "status", "source", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "type", "side", "source"]
    search_fields = ["account__owner__email", "account__owner__display_name", "instrument__symbol"]
    list_select_related = ["account", "instrument"]
    date_hierarchy = "created_at"


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "account", "instrument", "side", "quantity", "price", "commission",
        "realized_pnl", "is_liquidation", "created_at",
    ]  # fmt: skip
    list_filter = ["side", "is_liquidation"]
    search_fields = ["account__owner__email", "account__owner__display_name", "instrument__symbol"]
    list_select_related = ["account", "instrument"]


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "account",
        "instrument",
        "quantity",
        "avg_price",
        "realized_pnl",
        "closed_at",
    ]
    search_fields = ["account__owner__email", "instrument__symbol"]
    list_select_related = ["account", "instrument"]


@admin.register(EquitySnapshot)
class EquitySnapshotAdmin(ReadOnlyAdmin):
    list_display = ["account", "ts", "balance", "equity"]
    list_select_related = ["account"]


@admin.register(TradingRules)
class TradingRulesAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "source_id", "max_leverage", "allow_short", "allow_api_orders"]
