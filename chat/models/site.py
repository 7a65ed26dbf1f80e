"""What a member chose on the settings page, and the switches admins turn for the whole site."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Preferences(models.Model):
    """What a member chose on the settings page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="chat_preferences"
    )
    default_model = models.ForeignKey(
        # By name: catalogue.py imports this module (ChatModel.for_send reads Preferences).
        "chat.ChatModel",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("default model"),
        help_text=_("New chats start with it. Empty: the site's default."),
    )
    system_prompt = models.TextField(
        _("default system prompt"),
        blank=True,
        help_text=_("Sent first in every new conversation; each conversation can change its own."),
    )
    hide_api_conversations = models.BooleanField(
        _("hide API conversations"),
        default=False,
        help_text=_("Keep the conversations your API tokens made out of the sidebar (search finds them)."),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    @classmethod
    def of(cls, user, cached: bool = False) -> Preferences:
        """The user's preferences, or unsaved defaults; `cached`: from a send's facts, a copy."""
        if not cached:
            return cls.objects.filter(user=user).select_related("default_model").first() or cls(user=user)
        import copy

        from chat.models import freshness

        found = freshness.cached(
            ("preferences", user.pk),
            lambda: cls.objects.filter(user=user).select_related("default_model").first(),
        )
        return copy.copy(found) if found is not None else cls(user=user)

    @property
    def default_model_name(self) -> str | None:
        return self.default_model.name if self.default_model else None


class SiteSettings(models.Model):
    """The switches admins turn in the admin; one row."""

    self_service_keys = models.BooleanField(
        _("members manage their own API keys"),
        default=True,
        help_text=_(
            "On: members set, test and delete their own key on their settings page. "
            "Off: only admins set keys; members see which key they use."
        ),
    )
    open_signup = models.BooleanField(
        _("open sign-up"),
        default=False,
        help_text=_(
            "On: anyone who can reach the site can create an account. "
            "Off: admins create accounts and send invitation links."
        ),
    )

    # Share links (chat/sharing/): on by default; "everyone may share" on means no group needs the
    # share_conversation permission, so existing members keep sharing without a data migration.
    sharing_enabled = models.BooleanField(
        _("share links"),
        default=True,
        help_text=_("Off: no one can share a conversation by link and every existing link answers 404."),
    )
    everyone_may_share = models.BooleanField(
        _("everyone may share"),
        default=True,
        help_text=_(
            'Off: only members whose groups have the "Can share conversations by link" permission may.'
        ),
    )
    public_share_links = models.BooleanField(
        _("public share links"),
        default=False,
        help_text=_(
            "On: anyone with a share link can read it without signing in "
            "(search engines are told not to index it)."
        ),
    )

    class Meta:
        verbose_name = verbose_name_plural = _("site settings")

    def __str__(self) -> str:
        return "Site settings"

    @classmethod
    def current(cls) -> SiteSettings:
        return cls.objects.get_or_create(pk=1)[0]
