"""Grant the "Tournament operators" group exactly what running tournaments needs.

Tournaments: add, change and view tournaments and prizes (delete prizes, to edit the inline),
view and change participants (disqualify), view standings and prize awards (never change or
delete an award). Trading: view accounts, orders, fills and positions. Ledger: view accounts
and journals (with their postings) and post the audited adjustment. Nothing else: no users,
groups or other apps. Permissions are created here because Django only creates them after
all migrations have run (post_migrate), which is too late for a fresh database.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "tournaments": [
        "add_tournament",
        "change_tournament",
        "view_tournament",
        "add_prize",
        "change_prize",
        "delete_prize",
        "view_prize",
        "view_participant",
        "change_participant",
        "view_standing",
        "view_prizeaward",
    ],
    "trading": ["view_tradingaccount", "view_order", "view_fill", "view_position"],
    "ledger": ["view_ledgeraccount", "view_journal", "view_posting", "post_adjustment"],
}


def grant(apps, schema_editor):
    for label in GRANTS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=settings.OPERATORS_GROUP)
    for label, codenames in GRANTS.items():
        permissions = Permission.objects.filter(
            content_type__app_label=label, codename__in=codenames
        )
        found = set(permissions.values_list("codename", flat=True))
        missing = set(codenames) - found
        if missing:
            raise RuntimeError(f"permissions not found for {label}: {sorted(missing)}")
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=settings.OPERATORS_GROUP).first()
    if group is None:
        return
    for label, codenames in GRANTS.items():
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tournaments", "0001_initial"),
        ("accounts", "0002_operators_group"),
        ("trading", "0001_initial"),
        ("ledger", "0002_database_enforcement"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
