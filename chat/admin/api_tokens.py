"""Everyone's personal API tokens in the admin: seen (never their digest) and revoked; created by their
owners on the settings page, or by `manage.py create_api_token`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shown_prefix", "state", "created", "last_used", "expires"]
    list_filter = [("revoked", admin.EmptyFieldListFilter), "expires", "created"]
    search_fields = ["name", "owner__username", "prefix"]
    list_select_related = ["owner"]
    fields = ["owner", "name", "shown_prefix", "state", "created", "last_used", "expires", "revoked"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("token"))
    def shown_prefix(self, token: ApiToken) -> str:
        return token.shown_prefix

    @admin.display(description=_("state"))
    def state(self, token: ApiToken) -> str:
        return {"active": _("active"), "revoked": _("revoked"), "expired": _("expired")}[token.state]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a token is shown once, to whoever creates it: its owner, or the command's user

    @admin.action(permissions=["change"], description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = sum(token.revoke() for token in queryset.select_related("owner"))
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )
