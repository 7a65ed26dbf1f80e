"""Everyone's share links in the admin: seen (snapshot title, owner, state, views) and revoked."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "state", "created", "updated", "expires", "views"]
    list_filter = [("revoked", admin.EmptyFieldListFilter), "include_attachments", "created"]
    search_fields = ["owner__username", "conversation__title"]
    list_select_related = ["owner"]
    fields = ["title", "owner", "conversation", "state", "include_attachments", "created", "updated"]
    fields += ["expires", "revoked", "views"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("title"))
    def title(self, link: ShareLink) -> str:
        return str(link)

    @admin.display(description=_("state"))
    def state(self, link: ShareLink) -> str:
        return {"active": _("active"), "revoked": _("revoked"), "expired": _("expired")}[link.state]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a link is made by its owner, from the conversation

    @admin.action(permissions=["change"], description=_("Revoke the selected links"))
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = sum(link.revoke(request.user) for link in queryset.select_related("owner", "conversation"))
        self.message_user(
            request,
            ngettext("%(count)d link revoked.", "%(count)d links revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )
