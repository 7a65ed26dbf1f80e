"""Admin for review: the audit trail (read-only for everyone), flags, and the notice text."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from chat.models import ReviewNotice
from chat.models.audit import AuditEntry
from chat.models.flags import Flag
from chat.review.policy import REVIEW_PERMISSION


class ReadOnlyForReviewers(admin.ModelAdmin):
    """Shown to admins who also hold the review permission (the rows name people's conversations); no
    one adds, changes or deletes a row from the site, superusers included."""

    actions = None

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and request.user.has_perm(REVIEW_PERMISSION)

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) and request.user.has_perm(REVIEW_PERMISSION)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyForReviewers):
    list_display = ["created", "actor_name", "action", "conversation_link", "owner_name", "detail"]
    list_filter = ["action", "created"]
    search_fields = ["actor_name", "owner_name", "conversation_title", "detail", "=conversation_ref"]
    date_hierarchy = "created"
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over a trail that only grows
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    @admin.display(description=_("conversation"), ordering="conversation_ref")
    def conversation_link(self, entry: AuditEntry):
        if not entry.conversation_ref:
            return "-"
        url = reverse("review:transcript", args=[entry.conversation_ref])
        return format_html('<a href="{}">#{}</a> {}', url, entry.conversation_ref, entry.conversation_title)


@admin.register(Flag)
class FlagAdmin(ReadOnlyForReviewers):
    """Flags are raised and resolved on the review pages, where that is audited; here they are listed."""

    list_display = ["created", "conversation_id", "note", "created_by", "resolved_at", "resolved_by"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by", "resolved_by"]
    readonly_fields = ["conversation_id", "note", "created", "created_by", "resolved_at", "resolved_by"]
    fields = readonly_fields


@admin.register(ReviewNotice)
class ReviewNoticeAdmin(admin.ModelAdmin):
    """The one notice text: edit it, never delete it (the default comes back when it is missing)."""

    list_display = ["text", "updated"]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not ReviewNotice.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
