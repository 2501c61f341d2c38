"""The operators' desk: tournaments with prizes, lifecycle actions, participants, awards.

Every action calls a service; refusals are shown as messages, one per tournament. Status only
changes through the actions (publish, start now, end now, cancel), never by editing the form.
"""

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from config.api import DomainError
from config.readonly_admin import ReadOnlyAdmin
from tournaments import services
from tournaments.models import Participant, Prize, PrizeAward, Standing, Tournament


class PrizeInline(admin.TabularInline):
    model = Prize
    extra = 1
    fields = ["rank_from", "rank_to", "amount", "description"]


class TournamentForm(forms.ModelForm):
    class Meta:
        model = Tournament
        fields = [
            "name", "slug", "description", "registration_opens_at", "registration_closes_at",
            "starts_at", "ends_at", "starting_balance", "allowed_instruments", "max_leverage",
            "allow_short", "commission_rate", "min_commission", "max_position_share",
            "bots_allowed", "max_participants", "join_code",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end must be after the start.")
        closes = data.get("registration_closes_at")
        opens = data.get("registration_opens_at")
        if opens and closes and closes <= opens:
            self.add_error("registration_closes_at", "Registration must close after it opens.")
        return data


def _run_each(modeladmin, request, queryset, service, done: str) -> None:
    """Call SERVICE for each selected tournament; report successes and refusals."""
    ok = 0
    for tournament in queryset.order_by("pk"):
        try:
            service(tournament=tournament)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{tournament}: {exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok} tournament(s) {done}.", messages.SUCCESS)


@admin.register(Tournament)
class TournamentAdmin(admin.ModelAdmin):
    form = TournamentForm
    inlines = [PrizeInline]
    list_display = [
        "name", "status", "starts_at", "ends_at", "starting_balance", "max_participants",
        "is_private", "bots_allowed",
    ]  # fmt: skip
    list_filter = ["status", "bots_allowed"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["allowed_instruments"]
    readonly_fields = ["status", "created_by", "created_at", "finished_at"]
    date_hierarchy = "starts_at"
    actions = [
        "publish", "start_now", "end_now", "cancel", "recompute_standings", "export_standings",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "status"]}),
        (
            "Window",
            {"fields": ["registration_opens_at", "registration_closes_at", "starts_at", "ends_at"]},
        ),
        (
            "Rules",
            {
                "fields": [
                    "starting_balance",
                    "allowed_instruments",
                    "max_leverage",
                    "allow_short",
                    "commission_rate",
                    "min_commission",
                    "max_position_share",
                    "bots_allowed",
                ]
            },
        ),
        ("Entry", {"fields": ["max_participants", "join_code"]}),
        ("Record", {"fields": ["created_by", "created_at", "finished_at"]}),
    ]

    @admin.display(boolean=True, description="private")
    def is_private(self, obj: Tournament) -> bool:
        return obj.is_private

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            services.tournament_rules_sync(tournament=form.instance)

    @admin.action(description="Publish (open registration)", permissions=["change"])
    def publish(self, request, queryset):
        _run_each(self, request, queryset, services.tournament_publish, "published")

    @admin.action(description="Start now", permissions=["change"])
    def start_now(self, request, queryset):
        _run_each(self, request, queryset, services.tournament_start, "started")

    @admin.action(description="End now (freeze standings, award prizes)", permissions=["change"])
    def end_now(self, request, queryset):
        _run_each(self, request, queryset, services.tournament_finish, "finished")

    @admin.action(description="Cancel (no prizes)", permissions=["change"])
    def cancel(self, request, queryset):
        _run_each(self, request, queryset, services.tournament_cancel, "canceled")

    @admin.action(description="Recompute standings", permissions=["view"])
    def recompute_standings(self, request, queryset):
        _run_each(self, request, queryset, services.standings_recompute, "recomputed")

    @admin.action(description="Export standings as CSV", permissions=["view"])
    def export_standings(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="standings-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "tournament", "position", "rank", "display_name", "email", "is_bot",
                "disqualified", "equity", "pnl", "return_pct", "trades", "win_rate",
                "max_drawdown", "computed_at", "is_final",
            ]
        )  # fmt: skip
        standings = (
            Standing.objects.filter(tournament__in=queryset)
            .select_related("tournament", "participant__user")
            .order_by("tournament_id", "position")
        )
        for row in standings.iterator(chunk_size=2000):
            participant = row.participant
            writer.writerow(
                [
                    row.tournament.slug, row.position, row.rank or "",
                    participant.user.display_name, participant.user.email, participant.is_bot,
                    participant.is_disqualified, row.equity, row.pnl, row.return_pct,
                    row.trades, "" if row.win_rate is None else row.win_rate,
                    row.max_drawdown, row.computed_at.isoformat(), row.is_final,
                ]
            )  # fmt: skip
        return response


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on record with your name; the participant is told.",
    )


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "user", "tournament", "is_bot", "joined_at", "account", "disqualified_at",
    ]  # fmt: skip
    list_filter = ["tournament", "is_bot", ("disqualified_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "user__display_name", "tournament__name"]
    list_select_related = ["user", "tournament", "account"]
    readonly_fields = [
        "tournament", "user", "account", "is_bot", "joined_at", "disqualified_at",
        "disqualification_reason", "disqualified_by",
    ]  # fmt: skip
    actions = ["disqualify"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Disqualify (asks for a reason)", permissions=["change"])
    def disqualify(self, request, queryset):
        participants = list(queryset.select_related("user", "tournament").order_by("pk"))
        form = DisqualifyForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for participant in participants:
                try:
                    services.participant_disqualify(
                        participant=participant,
                        reason=form.cleaned_data["reason"],
                        operator=request.user,
                    )
                    done += 1
                except DomainError as exc:
                    self.message_user(request, f"{participant}: {exc.message}", messages.ERROR)
            if done:
                self.message_user(request, f"{done} participant(s) disqualified.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Disqualify participants",
            "opts": self.model._meta,
            "objects": participants,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "disqualify",
            "submit_label": "Disqualify",
        }
        return TemplateResponse(request, "admin/tournaments/disqualify.html", context)


@admin.register(PrizeAward)
class PrizeAwardAdmin(ReadOnlyAdmin):
    list_display = ["tournament", "participant", "rank", "amount", "journal_id", "awarded_at"]
    list_filter = ["tournament"]
    search_fields = ["participant__user__email", "participant__user__display_name"]
    list_select_related = ["tournament", "participant__user"]


@admin.register(Standing)
class StandingAdmin(ReadOnlyAdmin):
    list_display = [
        "tournament", "position", "rank", "participant", "equity", "return_pct", "trades",
        "win_rate", "max_drawdown", "is_final",
    ]  # fmt: skip
    list_filter = ["tournament", "is_final"]
    list_select_related = ["tournament", "participant__user"]
    ordering = ["tournament", "position"]
