"""Assistants in the admin: a view of every member's, whose model and how shared; members edit their own
in the gallery (/assistants/), where every save is a version."""

from __future__ import annotations

from django.contrib import admin

from chat.models import Assistant


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "icon",
        "owner",
        "model",
        "visibility",
        "version",
        "retired",
        "moved_from",
        "updated",
    ]
    list_filter = ["visibility", "retired", "model"]
    search_fields = ["name", "owner__username", "model"]
    fields = [*list_display[:-1], "groups", "system_prompt", "parameters", "created", "updated"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # an assistant is made by its owner, in the gallery

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a change here would not record a version
