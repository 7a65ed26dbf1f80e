"""Users (created by admins, invited by link), groups and what they may use, and the site's switches."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from chat.accounts import invitations
from chat.models import ChatModel, ModelLimit, SiteSettings

User = get_user_model()


def announce_invitation(request, user) -> None:
    """Make a link, mail it when the site can, and always show it: small teams often have no mail."""
    invitation = invitations.invite(request, user)
    sent = f"Mailed to {user.email}. " if invitation.mailed else ""
    messages.success(
        request,
        format_html(
            "{}Invitation link for {} (works once, until a password is set): "
            '<a class="invitation-link" href="{}">{}</a>',
            sent,
            user.get_username(),
            invitation.link,
            invitation.link,
        ),
    )


class InvitingUserCreationForm(AdminUserCreationForm):
    """Django's form for adding a user, with the invitation as the usual way in."""

    usable_password = forms.ChoiceField(
        label=_("How they get in"),
        required=False,
        initial="false",
        # The values are Django's: its script hides the password fields for "false".
        choices={
            "false": "Send an invitation link: they choose their own password",
            "true": "Set a password now",
        },
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
    )

    class Meta(AdminUserCreationForm.Meta):
        fields = ["username", "email", "first_name", "last_name", "groups"]


admin.site.unregister(User)


@admin.register(User)
class TeamUserAdmin(UserAdmin):
    add_form = InvitingUserCreationForm
    add_fieldsets = [
        (None, {"fields": ["username", "email", "first_name", "last_name"]}),
        (_("Password"), {"fields": ["usable_password", "password1", "password2"]}),
        (_("Groups"), {"fields": ["groups"]}),
    ]
    list_display = [
        "username",
        "email",
        "full_name",
        "group_names",
        "chat_key",
        "status",
        "is_staff",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "groups"]
    actions = ["send_invitations", "deactivate", "activate"]
    readonly_fields = ["chat_key", "usable_models"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("TokenOff Chat", {"fields": ["chat_key", "usable_models"]})]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("api_key").prefetch_related("groups")

    @admin.display(description=_("Name"))
    def full_name(self, user) -> str:
        return user.get_full_name()

    @admin.display(description=_("Groups"))
    def group_names(self, user) -> str:
        return ", ".join(group.name for group in user.groups.all())

    @admin.display(description=_("API key"))
    def chat_key(self, user):
        key = getattr(user, "api_key", None)
        if key is None:
            return format_html(
                'team key · <a href="{}?kind=user&amp;user={}">set their own</a>',
                reverse("admin:chat_apikey_add"),
                user.pk,
            )
        change = reverse("admin:chat_apikey_change", args=[key.pk])
        return format_html('<a href="{}">{}</a>', change, key.masked)

    @admin.display(description=_("Status"))
    def status(self, user):
        if not user.is_active:
            return format_html('<span class="key-badge key-badge-rejected">{}</span>', "deactivated")
        if not user.has_usable_password() and user.last_login is None:
            return format_html('<span class="key-badge key-badge-unreachable">{}</span>', "invited")
        return format_html('<span class="key-badge key-badge-ok">{}</span>', "active")

    @admin.display(description=_("Models they may use"))
    def usable_models(self, user):
        names = list(ChatModel.objects.usable_by(user).values_list("name", flat=True))
        if not names:
            return "none: check the groups' model limits and the models' groups"
        return format_html_join(", ", "<code>{}</code>", ((name,) for name in names))

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change and not obj.has_usable_password():
            announce_invitation(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        # Back to the list, where the invitation link shows above everyone else.
        if "_addanother" not in request.POST and "_continue" not in request.POST:
            return HttpResponseRedirect(reverse("admin:auth_user_changelist"))
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Send an invitation link (to choose a password)"))
    def send_invitations(self, request, queryset):
        for user in queryset.filter(is_active=True):
            announce_invitation(request, user)

    @admin.action(description=_("Deactivate: end their chats now and refuse them from now on"))
    def deactivate(self, request, queryset):
        ended = 0
        for user in queryset.filter(is_active=True).exclude(pk=request.user.pk):
            user.is_active = False
            user.save(update_fields=["is_active"])  # the save, not update(): its signal ends their chats
            ended += 1
        messages.success(request, f"{ended} user(s) deactivated; their open chats were ended.")

    @admin.action(description=_("Activate"))
    def activate(self, request, queryset):
        count = queryset.update(is_active=True)
        messages.success(request, f"{count} user(s) activated.")


class ModelLimitInline(admin.StackedInline):
    model = ModelLimit
    max_num = 1
    can_delete = True
    filter_horizontal = ["allowed_models"]
    verbose_name = "limit to these models only"
    verbose_name_plural = "Limit this group's members to some models"
    extra = 0


class WrappedFilteredSelectMultiple(FilteredSelectMultiple):
    """Django's two-box picker in a div of its own, as the admin wraps its own: its script puts the
    picker first in the parent element, which would otherwise put it before the field's label."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html(
            '<div class="related-widget-wrapper">{}</div>', super().render(name, value, attrs, renderer)
        )


class GroupForm(forms.ModelForm):
    """Django's group, with the models kept for it (the other side of a model's “only for groups”)."""

    reserved_models = forms.ModelMultipleChoiceField(
        ChatModel.objects.all(),
        required=False,
        label=_("Models only for this group"),
        widget=WrappedFilteredSelectMultiple("models", is_stacked=False),
        help_text=_("Members of other groups cannot use these (unless a model is kept for their group too)."),
    )

    class Meta:
        model = Group
        fields = ["name", "permissions"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["reserved_models"].initial = self.instance.chat_models.all()

    def _save_m2m(self) -> None:
        super()._save_m2m()
        self.instance.chat_models.set(self.cleaned_data["reserved_models"])


admin.site.unregister(Group)


@admin.register(Group)
class TeamGroupAdmin(GroupAdmin):
    form = GroupForm
    inlines = [ModelLimitInline]
    list_display = ["name", "member_count", "reserved", "limit"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (
            _("Models"),
            {
                "description": _(
                    "By default everyone may use every enabled model. Keep models for this "
                    "group below, or limit its members to some models (further down)."
                ),
                "fields": ["reserved_models"],
            },
        ),
        (_("Admin permissions"), {"classes": ["collapse"], "fields": ["permissions"]}),
    ]

    def get_queryset(self, request):
        related = ["chat_models", "user_set", "model_limit__allowed_models"]
        return super().get_queryset(request).prefetch_related(*related)

    @admin.display(description=_("Members"))
    def member_count(self, group) -> int:
        return len(group.user_set.all())

    @admin.display(description=_("Models only for it"))
    def reserved(self, group) -> str:
        return ", ".join(model.name for model in group.chat_models.all()) or "—"

    @admin.display(description=_("Limited to"))
    def limit(self, group) -> str:
        try:
            limit = group.model_limit
        except ModelLimit.DoesNotExist:
            return "no limit"
        return ", ".join(model.name for model in limit.allowed_models.all()) or "no model at all"


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    """One row: the list page opens it."""

    fields = ["self_service_keys", "open_signup"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        current = SiteSettings.current()
        return HttpResponseRedirect(reverse("admin:chat_sitesettings_change", args=[current.pk]))

    def response_change(self, request, obj):
        messages.success(request, "The site settings are saved.")
        return HttpResponseRedirect(reverse("admin:index"))
