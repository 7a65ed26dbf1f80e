"""Users (created by admins, invited by link), groups and what they may use, and the site's switches."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from chat.accounts import invitations
from chat.models import ChatModel, ModelLimit, SiteSettings

User = get_user_model()


def held_permissions(user) -> QuerySet[Permission]:
    """Every permission a user holds, their own or through a group, active or not (all for a superuser)."""
    if user.is_superuser:
        return Permission.objects.all()
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).distinct()


def holds_all(requester, permissions: QuerySet[Permission]) -> bool:
    """Whether the requester holds every one of these permissions: nobody hands out more than they have."""
    return requester.is_superuser or not permissions.exclude(pk__in=held_permissions(requester)).exists()


def may_manage(requester, user) -> bool:
    """Whether the requester may change this account at all: its password, its invitation, its status."""
    # A password or an invitation link for a more powerful account is a way to become it: anyone but a
    # superuser manages only members with no staff status and no permission the requester lacks, and
    # their own account (whose powers stay read-only, see TeamUserAdmin.powers).
    if requester.is_superuser or user.pk == requester.pk:
        return True
    return not (user.is_staff or user.is_superuser) and holds_all(requester, held_permissions(user))


def grantable_groups(requester) -> QuerySet[Group]:
    """The groups whose every permission the requester holds."""
    if requester.is_superuser:
        return Group.objects.all()
    return Group.objects.exclude(
        permissions__in=Permission.objects.exclude(pk__in=held_permissions(requester))
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
    # The dates are records, not settings (and Django's split date-time widget has unlabelled fields).
    readonly_fields = ["chat_key", "usable_models", "last_login", "date_joined"]
    # What makes an account powerful: only a superuser grants it (groups: see formfield_for_manytomany).
    powers = ["is_staff", "is_superuser", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else [*fields, *self.powers]

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "groups" and request is not None and not request.user.is_superuser:
            # Only groups whose permissions the requester holds: joining a group is how powers spread.
            kwargs["queryset"] = grantable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_manage(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_manage(request.user, obj))

    def managed(self, request, queryset) -> list:
        """The selected accounts the requester may manage; the others are named and left alone."""
        mine, refused = [], []
        for user in queryset:
            (mine if may_manage(request.user, user) else refused).append(user)
        if refused:
            names = ", ".join(user.get_username() for user in refused)
            messages.warning(request, _("Left alone (only a superuser may change them): %s.") % names)
        return mine

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

    def may_invite(self, request, user) -> bool:
        """Whether the requester may make this account's invitation: staff are invited by a superuser only."""
        powerful = user.is_staff or user.is_superuser
        return self.has_change_permission(request, user) and (request.user.is_superuser or not powerful)

    def announce_invitation(self, request, user) -> None:
        """Make a link, mail it when the site can, and always show it: small teams often have no mail."""
        if not self.may_invite(request, user):
            # The link sets the account's password: none is made for an account the requester cannot change.
            return
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

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change and not obj.has_usable_password():
            self.announce_invitation(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        # Back to the list, where the invitation link shows above everyone else.
        if "_addanother" not in request.POST and "_continue" not in request.POST:
            return HttpResponseRedirect(reverse("admin:auth_user_changelist"))
        return super().response_add(request, obj, post_url_continue)

    @admin.action(permissions=["change"], description=_("Send an invitation link (to choose a password)"))
    def send_invitations(self, request, queryset):
        invitable, refused = [], []
        for user in queryset.filter(is_active=True):
            (invitable if self.may_invite(request, user) else refused).append(user)
        if refused:
            names = ", ".join(user.get_username() for user in refused)
            messages.warning(request, _("No invitation for %s: only a superuser may invite them.") % names)
        for user in invitable:
            self.announce_invitation(request, user)

    @admin.action(
        permissions=["change"], description=_("Deactivate: end their chats now and refuse them from now on")
    )
    def deactivate(self, request, queryset):
        ended = 0
        for user in self.managed(request, queryset.filter(is_active=True).exclude(pk=request.user.pk)):
            user.is_active = False
            user.save(update_fields=["is_active"])  # the save, not update(): its signal ends their chats
            ended += 1
        messages.success(request, f"{ended} user(s) deactivated; their open chats were ended.")

    @admin.action(permissions=["change"], description=_("Activate"))
    def activate(self, request, queryset):
        users = self.managed(request, queryset.filter(is_active=False))
        count = queryset.filter(pk__in=[user.pk for user in users]).update(is_active=True)
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

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "permissions" and request is not None:
            # A group gets no permission its editor lacks: editing one's own group would be a way up.
            kwargs["queryset"] = held_permissions(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or holds_all(request.user, obj.permissions.all()))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or holds_all(request.user, obj.permissions.all()))

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
    fields += ["sharing_enabled", "everyone_may_share", "public_share_links"]  # share links (chat/sharing/)

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
