"""API keys in the admin: set or replaced through a write-only field, shown as sk-…abcd, tested, rotated."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from chat.accounts.forms import SecretField
from chat.lib.params import register_id_converter
from chat.models import ApiKey, UnreadableKeys

CHECK_LEVELS = {"ok": messages.SUCCESS, "rejected": messages.ERROR}
ENCRYPTION_LABELS = {
    "current": "current key",
    "older": "older key: re-encrypt before removing it",
    "unreadable": "cannot be decrypted",
}

register_id_converter()  # `<id:pk>` below: an id past any row is a 404, not an error


def check_badge(key: ApiKey):
    """The last check of a key as a small coloured word, with when it was made."""
    if not key.checked:
        return format_html('<span class="key-badge key-badge-none">{}</span>', "not tested")
    return format_html(
        '<span class="key-badge key-badge-{}" title="{}">{}</span> <span class="quiet">{} ago</span>',
        key.check_result,
        key.check_detail,
        key.get_check_result_display(),
        timesince(key.checked),
    )


def report_check(request: HttpRequest, key: ApiKey) -> None:
    # Here, not at the top: the admin loads with the app, the OpenAI SDK only when the upstream is asked.
    from chat.upstream import services

    outcome = services.check_key(key)
    level = CHECK_LEVELS.get(outcome.result, messages.WARNING)
    messages.add_message(request, level, f"{key}: {key.get_check_result_display()}. {outcome.detail}")


class ApiKeyAdminForm(forms.ModelForm):
    """Whose key it is (fixed once stored) and the key itself, which is never shown again."""

    kind = forms.ChoiceField(
        label=_("Whose key"),
        choices=[
            ("team", "The team key: used by every member who has no key of their own"),
            ("user", "A member's own key"),
        ],
        initial="team",
        widget=forms.RadioSelect,
    )
    secret = SecretField(required=False)

    class Meta:
        model = ApiKey
        fields = ["user"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        secret = self.fields["secret"]
        if self.instance.pk:
            # Whose key it is stays as it was stored: only the key itself can be replaced.
            self.fields.pop("kind")
            self.fields.pop("user", None)
            secret.label = "Replace with a new key"
            secret.help_text = "Write-only: the stored key is never shown. Leave empty to keep it."
        else:
            secret.required = True
            secret.help_text = "Stored encrypted; from now on only its last four characters are shown."
        if "user" in self.fields:
            # Members who have no key yet: a member has one key at most.
            self.fields["user"].queryset = get_user_model().objects.filter(api_key__isnull=True)
            self.fields["user"].required = False
            self.fields["user"].help_text = "For “A member's own key”."

    @sensitive_variables()
    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data
        if data.get("kind") == "team":
            data["user"] = None
            if ApiKey.objects.filter(is_team=True).exists():
                raise forms.ValidationError("There is a team key already: open it to replace it.")
        elif not data.get("user"):
            self.add_error("user", "Choose the member whose key this is.")
        return data

    @sensitive_variables()
    def save(self, commit: bool = True) -> ApiKey:
        key = super().save(commit=False)
        if not key.pk:
            key.is_team = self.cleaned_data.get("kind") == "team"
        secret = self.cleaned_data.get("secret")
        if secret:
            key.set_secret(secret)
        if commit:
            key.save()
        return key


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyAdminForm
    list_display = ["owner_name", "masked", "created", "last_used", "last_check", "encryption"]
    list_display_links = ["owner_name", "masked"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "last4"]
    actions = ["test_keys"]
    change_list_template = "admin/chat/apikey/change_list.html"
    change_form_template = "admin/chat/apikey/change_form.html"
    # What a stored key shows: never the key itself.
    facts = ["owner_name", "masked", "created", "last_used", "last_check", "check_detail", "encryption"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["kind", "user", "secret"]})]
        return [
            (None, {"fields": ["owner_name", "masked", "secret"]}),
            (_("Use and checks"), {"fields": self.facts[2:]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.facts

    @admin.display(description=_("Whose key"), ordering="user__username")
    def owner_name(self, key: ApiKey) -> str:
        return key.owner

    @admin.display(description=_("Key"))
    def masked(self, key: ApiKey) -> str:
        return key.masked

    @admin.display(description=_("Last check"))
    def last_check(self, key: ApiKey):
        return check_badge(key)

    @admin.display(description=_("Encrypted under"))
    def encryption(self, key: ApiKey):
        state = key.encryption_state
        return format_html('<span class="key-badge key-badge-{}">{}</span>', state, ENCRYPTION_LABELS[state])

    @method_decorator(sensitive_post_parameters("secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        if "_saveandtest" in request.POST:
            report_check(request, obj)
            return HttpResponseRedirect(reverse("admin:chat_apikey_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_saveandtest" in request.POST:
            report_check(request, obj)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # A test calls TokenOff with the key and stores what it answered: a change, not a look.
    @admin.action(permissions=["change"], description=_("Test the selected keys against TokenOff"))
    def test_keys(self, request, queryset):
        for key in queryset:
            report_check(request, key)

    # Buttons of the pages (forms that POST, see the templates) -------------------------------

    def get_urls(self):
        own = [
            path("<id:pk>/test/", self.admin_site.admin_view(self.test_view), name="chat_apikey_test"),
            path("rotate/", self.admin_site.admin_view(self.rotate_view), name="chat_apikey_rotate"),
        ]
        return own + super().get_urls()

    @method_decorator(require_POST)
    def test_view(self, request, pk: int):
        if not self.has_change_permission(request):
            raise PermissionDenied
        key = get_object_or_404(ApiKey, pk=pk)
        report_check(request, key)
        return HttpResponseRedirect(reverse("admin:chat_apikey_change", args=[pk]))

    @method_decorator(require_POST)
    def rotate_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            count = ApiKey.objects.rotate()
        except UnreadableKeys as unreadable:
            messages.error(
                request,
                f"Nothing was re-encrypted: no configured encryption key opens the keys {unreadable}. "
                "Put the key they were stored under back into TOKENOFF_ENCRYPTION_KEYS, or set them again.",
            )
        else:
            messages.success(
                request,
                f"Re-encrypted {count} key(s) under the first key of TOKENOFF_ENCRYPTION_KEYS. "
                "The older keys can now be removed from the setting.",
            )
        return HttpResponseRedirect(reverse("admin:chat_apikey_changelist"))

    def changelist_view(self, request, extra_context=None):
        found = ApiKey.objects.by_encryption()
        context = {
            "encryption": {state: len(keys) for state, keys in found.items()},
            "unreadable_keys": found["unreadable"],
            "configured_keys": len(settings.TOKENOFF_ENCRYPTION_KEYS),
            "team_key": ApiKey.objects.filter(is_team=True).first(),
            "may_rotate": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)
