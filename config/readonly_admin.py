"""Admin pages that show and never change: the apps' ledgers, fills, quotes and awards change
only through their services."""

from django.contrib import admin


class ReadOnlyMixin:
    """No add, change or delete, for a ModelAdmin or an inline."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass
