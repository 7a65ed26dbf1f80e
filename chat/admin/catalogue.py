"""The model catalogue in the admin: on or off, label and order, the default, parameters, access, sync."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from chat.assistants import retiring
from chat.models import ChatModel
from chat.models.catalogue import LONG_CONTEXT_TOKENS


@admin.register(ChatModel)
class ChatModelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "label",
        "family",
        "vision",
        "enabled",
        "default_mark",
        "profile",
        "access",
        "upstream_status",
        "sort_order",
    ]
    list_display_links = ["name"]
    list_editable = ["label", "enabled", "sort_order"]
    list_filter = ["enabled", "family", "is_reasoning", "vision", "missing_upstream", "groups"]
    search_fields = ["name", "label", "family", "description"]
    filter_horizontal = ["groups"]
    actions = ["enable_models", "disable_models", "make_default", "retire_and_move"]
    change_list_template = "admin/chat/chatmodel/change_list.html"
    readonly_fields = ["missing_upstream"]
    fieldsets = [
        (None, {"fields": ["name", "label", "enabled", "is_default", "sort_order"]}),
        (
            _("In the picker"),
            {
                "description": format_lazy(
                    _(
                        "The chat's model picker groups models by family and shows each one's "
                        "description, its capabilities (reasoning, vision, a long context: {tokens} "
                        "tokens or more) and its price relative to the other models."
                    ),
                    tokens=f"{LONG_CONTEXT_TOKENS:,}",
                ),
                "fields": ["family", "description", "vision", "context_window"],
            },
        ),
        (
            _("Capabilities"),
            {
                "description": _(
                    "What the model takes: requests carry only these parameters, so the upstream never "
                    "refuses one. Reasoning models (the o-series, the GPT-5 family) take reasoning efforts "
                    "and max_completion_tokens and refuse temperature and top_p; each model its own efforts."
                ),
                "fields": [
                    "is_reasoning",
                    "max_output_limit",
                    "takes_temperature",
                    "takes_top_p",
                    "reasoning_efforts",
                    "default_reasoning_effort",
                    "takes_verbosity",
                ],
            },
        ),
        (
            _("Parameters"),
            {
                "description": _(
                    "What the site sends with every request to this model, among what it takes. "
                    "Empty: the upstream's default."
                ),
                "fields": ["temperature", "top_p", "max_output_tokens", "reasoning_effort", "verbosity"],
            },
        ),
        (
            _("Who may use it"),
            {
                "description": _(
                    "Everyone may use an enabled model unless it is kept for some groups here. "
                    "A group can also be limited to some models: see Groups."
                ),
                "fields": ["groups"],
            },
        ),
        (
            _("Prices"),
            {
                "description": _(
                    "Per million tokens, in one currency for all models; the cost of each reply "
                    "and the usage pages follow from them. Empty: replies of this model have no cost."
                ),
                "fields": ["input_price", "cached_input_price", "output_price"],
            },
        ),
        (_("Upstream"), {"fields": ["missing_upstream"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("Default"), ordering="-is_default")
    def default_mark(self, model: ChatModel):
        if not model.is_default:
            return ""
        return format_html('<span class="key-badge key-badge-ok">{}</span>', "default")

    @admin.display(description=_("Kind and parameters"), ordering="is_reasoning")
    def profile(self, model: ChatModel):
        sent = ", ".join(f"{name}={value}" for name, value in model.request_parameters().items())
        kind = "reasoning" if model.is_reasoning else "chat"
        return format_html('{} <span class="quiet">{}</span>', kind, sent or "upstream defaults")

    @admin.display(description=_("Who may use it"))
    def access(self, model: ChatModel) -> str:
        groups = [group.name for group in model.groups.all()]
        return "only " + ", ".join(groups) if groups else "everyone"

    @admin.display(description=_("Upstream"), ordering="missing_upstream")
    def upstream_status(self, model: ChatModel):
        if model.missing_upstream:
            return format_html('<span class="key-badge key-badge-rejected">{}</span>', "no longer listed")
        return format_html('<span class="quiet">{}</span>', "listed")

    @admin.action(permissions=["change"], description=_("Enable the selected models"))
    def enable_models(self, request, queryset):
        count = queryset.update(enabled=True)
        messages.success(request, f"{count} model(s) enabled: members see them in the picker.")

    @admin.action(permissions=["change"], description=_("Disable the selected models"))
    def disable_models(self, request, queryset):
        if queryset.filter(is_default=True).exists():
            messages.error(request, "The default model stays enabled: first make another one the default.")
            return
        count = queryset.update(enabled=False)
        messages.success(request, f"{count} model(s) disabled: nobody can choose them any more.")

    @admin.action(permissions=["change"], description=_("Retire and move assistants to…"))
    def retire_and_move(self, request, queryset):
        return retiring.retire_and_move(self, request, queryset)

    @admin.action(permissions=["change"], description=_("Make the selected model the default"))
    def make_default(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, "Select exactly one model to make it the default.")
            return
        model = queryset.get()
        model.is_default, model.enabled = True, True
        model.save()
        messages.success(request, f"{model.name} is now the default model for new chats.")

    # The Sync button of the list page --------------------------------------------------------

    def may_sync(self, request) -> bool:
        """A sync adds models and flags others: it takes both permissions."""
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"may_sync": self.may_sync(request), **(extra_context or {})})

    def get_urls(self):
        sync = path("sync/", self.admin_site.admin_view(self.sync_view), name="chat_chatmodel_sync")
        return [sync, *super().get_urls()]

    @method_decorator(require_POST)
    def sync_view(self, request):
        """The admin's sync_models: add what the upstream offers (disabled), flag what it dropped."""
        if not self.may_sync(request):
            raise PermissionDenied
        # Here, not at the top: the admin loads with the app, the OpenAI SDK only when the upstream is asked.
        from chat.upstream import client as upstream
        from chat.upstream import services

        try:
            result = services.sync_catalogue()
        except upstream.UpstreamError as exc:
            messages.error(request, f"Could not list the upstream's models: {exc.message}")
        else:
            if result.added:
                messages.success(
                    request,
                    f"Added {len(result.added)} model(s), disabled for review: {', '.join(result.added)}.",
                )
            else:
                messages.success(request, "The catalogue has every model the upstream lists.")
            if result.missing:
                messages.warning(
                    request, f"No longer listed upstream (requests may fail): {', '.join(result.missing)}."
                )
        return HttpResponseRedirect(reverse("admin:chat_chatmodel_changelist"))
