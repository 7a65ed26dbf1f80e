"""Monthly budgets in the admin; what was spent is read-only (only replies add to it)."""

from django.contrib import admin

from chat.models.budgets import Budget, Spend


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "monthly_tokens", "monthly_cost"]
    fields = ["user", "is_team", "monthly_tokens", "monthly_cost"]
    autocomplete_fields = ["user"]


@admin.register(Spend)
class SpendAdmin(admin.ModelAdmin):
    list_display = ["month", "user", "is_team", "tokens", "cost"]
    list_filter = ["month", "is_team"]
    readonly_fields = ["user", "is_team", "month", "tokens", "cost"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
