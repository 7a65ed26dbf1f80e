"""Monthly budgets in the admin; what was spent is read-only (only replies add to it)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from chat.lib import money
from chat.models.budgets import Budget, Spend


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["owner", "token_limit", "cost_limit"]
    fields = ["user", "is_team", "monthly_tokens", "monthly_cost"]
    autocomplete_fields = ["user"]

    # In words, as the budget reads them: an empty or 0 limit is none; money in the prices' currency.
    @admin.display(description=_("Whose budget"), ordering="user__username")
    def owner(self, budget: Budget) -> str:
        return _("The team key") if budget.is_team else str(budget.user)

    @admin.display(description=_("Tokens a month"), ordering="monthly_tokens")
    def token_limit(self, budget: Budget) -> str:
        return f"{budget.monthly_tokens:,}" if budget.monthly_tokens else _("no limit")

    @admin.display(description=_("Cost a month"), ordering="monthly_cost")
    def cost_limit(self, budget: Budget) -> str:
        return money.money(budget.monthly_cost) if budget.monthly_cost else _("no limit")


@admin.register(Spend)
class SpendAdmin(admin.ModelAdmin):
    list_display = ["month", "user", "is_team", "tokens", "spent"]
    list_filter = ["month", "is_team"]
    readonly_fields = ["user", "is_team", "month", "tokens", "cost"]

    @admin.display(description=_("Cost"), ordering="cost")
    def spent(self, spend: Spend) -> str:
        return money.spent(spend.cost)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
