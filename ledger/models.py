"""Double-entry books: accounts, journals and their postings.

Sign convention: a posting's `amount` is the change to its account's balance, seen from that
account. `amount > 0` increases the account, `amount < 0` decreases it, for cash and house
accounts alike, and the postings of a journal sum to exactly zero. So a deposit of 500 to a
trader is `cash +500.00, house:capital -500.00`; a commission of 0.02 is `cash -0.02,
house:fees +0.02`; a realised profit of 10 is `cash +10.00, house:trading_pnl -10.00`.
A house account's balance is therefore what the house has taken in (positive) or paid out
(negative), and the whole book sums to zero.

Cash accounts (one per trading account) keep a cached `balance`, changed only by
`ledger.services.journal_post` in the same transaction as their postings, and each of their
postings records the `balance_after`. House accounts keep no cached balance: every trade posts
to them, and one hot row updated by every trade would serialise all trading. Their balance is
summed from the postings when asked (`ledger.selectors.account_balance`).

Ledger history is permanent. Journals and postings are append-only (on PostgreSQL the database
refuses UPDATE and DELETE, see migration 0002), and the foreign keys into the ledger are
PROTECT: a user who owns a ledger account or created a journal cannot be deleted (deactivate
them instead), and a ledger account with postings cannot be deleted.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Cash is kept to cents (config.money.quantize_cash).
CASH = {"max_digits": 20, "decimal_places": 2}
# journal_post refuses amounts and cash balances of this size or more. Far below the column's
# limit, because SQLite (the embedded run) stores decimals as REAL and Django reads them back
# to 15 significant digits: 13 integer digits plus cents is what both backends keep exactly.
CASH_LIMIT = Decimal(10) ** 13

DEFAULT_CURRENCY = "USD"

# The well-known house accounts (the other side of every trader's cash posting).
HOUSE_CAPITAL = "house:capital"  # deposits, resets: virtual money handed to traders
HOUSE_FEES = "house:fees"  # commissions
HOUSE_FUNDING = "house:funding"  # overnight funding of leveraged and short positions
HOUSE_TRADING_PNL = "house:trading_pnl"  # realised profit and loss of traders
HOUSE_PRIZES = "house:prizes"  # tournament prizes
HOUSE_ADJUSTMENTS = "house:adjustments"  # operator adjustments
HOUSE_ACCOUNTS: dict[str, str] = {
    HOUSE_CAPITAL: "House capital",
    HOUSE_FEES: "Commissions",
    HOUSE_FUNDING: "Funding",
    HOUSE_TRADING_PNL: "Trading P&L",
    HOUSE_PRIZES: "Prizes",
    HOUSE_ADJUSTMENTS: "Operator adjustments",
}


class AccountKind(models.TextChoices):
    CASH = "cash", "Cash (trader)"
    HOUSE = "house", "House"


class JournalKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    TRADE_PNL = "trade_pnl", "Realised P&L"
    COMMISSION = "commission", "Commission"
    FUNDING = "funding", "Funding"
    ADJUSTMENT = "adjustment", "Operator adjustment"
    PRIZE = "prize", "Prize"
    RESET = "reset", "Account reset"
    LIQUIDATION = "liquidation", "Liquidation"


class LedgerAccount(models.Model):
    code = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=AccountKind.choices)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    # Cash accounts only (NULL for house accounts, enforced by a check constraint).
    balance = models.DecimalField(**CASH, null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ("view",)
        permissions = [("post_adjustment", "Can post an operator adjustment")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=AccountKind.CASH, balance__isnull=False)
                | Q(kind=AccountKind.HOUSE, balance__isnull=True),
                name="ledger_account_balance_cached_for_cash_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"

    @property
    def is_cash(self) -> bool:
        return self.kind == AccountKind.CASH


class Journal(models.Model):
    """One economic event; its postings sum to zero. Never changed: corrections are new
    journals (`reverses` links a reversal to the journal it cancels)."""

    kind = models.CharField(max_length=16, choices=JournalKind.choices)
    memo = models.CharField(max_length=200, blank=True)
    # What caused it, without a foreign key into higher apps: e.g. ("fill", "42").
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_journals",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ("view",)
        indexes = [
            models.Index(
                fields=["reference_type", "reference_id"], name="ledger_journal_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.memo}".strip()


class Posting(models.Model):
    """`amount` changes `account`'s balance by that much (see the module docstring)."""

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount = models.DecimalField(**CASH)
    # The cash account's balance after this posting; NULL for house accounts.
    balance_after = models.DecimalField(**CASH, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ("view",)
        indexes = [
            # Per-account activity, newest first; also the balance_after chain in reconcile.
            models.Index(fields=["account", "-id"], name="ledger_posting_account_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_posting_amount_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount}"
