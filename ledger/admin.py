"""Read-only ledger admin. The one write is an operator adjustment, posted as a journal.

Nobody, superusers included, can add, change or delete ledger rows here: the models only have
the `view` permission (plus `ledger.post_adjustment`) and every admin refuses the rest.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from config.readonly_admin import ReadOnlyAdmin, ReadOnlyMixin
from ledger.models import AccountKind, Journal, LedgerAccount, Posting
from ledger.services import LedgerError, adjustment_post


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=20,
        decimal_places=2,
        help_text="Positive credits the trader's cash, negative debits it (in the account's "
        "currency, whole cents).",
    )
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded on the journal with your name.",
    )

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment cannot be zero.", code="zero_amount")
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.", code="reason_required")
        return reason


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "currency", "balance", "owner", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["code", "name", "owner__email", "owner__display_name"]
    list_select_related = ["owner"]
    ordering = ["kind", "code"]
    actions = ["post_adjustment"]

    def has_post_adjustment_permission(self, request) -> bool:
        return request.user.has_perm("ledger.post_adjustment")

    @admin.action(
        description="Post an operator adjustment to the selected cash accounts",
        permissions=["post_adjustment"],
    )
    def post_adjustment(self, request, queryset):
        accounts = list(queryset.order_by("pk"))
        if any(account.kind != AccountKind.CASH for account in accounts):
            self.message_user(
                request, "Only traders' cash accounts can be adjusted.", messages.ERROR
            )
            return None
        form = AdjustmentForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                with transaction.atomic():
                    journals = [
                        adjustment_post(
                            account=account,
                            amount=form.cleaned_data["amount"],
                            reason=form.cleaned_data["reason"],
                            operator=request.user,
                        )
                        for account in accounts
                    ]
            except LedgerError as exc:
                form.add_error(None, exc.message)
            else:
                numbers = ", ".join(f"#{journal.pk}" for journal in journals)
                self.message_user(
                    request, f"Posted adjustment journal(s) {numbers}.", messages.SUCCESS
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Post an operator adjustment",
            "opts": self.model._meta,
            "objects": accounts,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "post_adjustment",
            "submit_label": "Post adjustment",
        }
        return TemplateResponse(request, "admin/ledger/ledgeraccount/post_adjustment.html", context)


class PostingInline(ReadOnlyMixin, admin.TabularInline):
    model = Posting
    fields = ["account", "amount", "balance_after", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "memo",
        "reference_type",
        "reference_id",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "reference_type"]
    search_fields = ["=id", "memo", "reason", "=reference_id"]
    list_select_related = ["created_by"]
    ordering = ["-id"]
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ["id", "journal", "account", "amount", "balance_after", "created_at"]
    list_filter = ["journal__kind", "account__kind"]
    search_fields = ["account__code", "=journal__id"]
    list_select_related = ["journal", "account"]
    ordering = ["-id"]
