"""The chat's data and the rules that belong to it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from chat import crypto, upstream

# The o-series and the whole GPT-5 family reason: they take max_completion_tokens and
# reasoning_effort, and refuse temperature. Used to guess the profile of a model sync_models adds
# (disabled, for an admin to review).
REASONING_NAME = re.compile(r"^(o\d|gpt-5)")
# "minimal" effort exists for the first GPT-5 models only; GPT-5.1 and later refuse it.
MINIMAL_EFFORT = re.compile(r"^gpt-5(-mini|-nano)?(-\d{4}-\d{2}-\d{2})?$")


def looks_like_reasoning(name: str) -> bool:
    return bool(REASONING_NAME.match(name))


class ChatModelQuerySet(models.QuerySet):
    def usable_by(self, user) -> ChatModelQuerySet:
        """The enabled models this user may use: the same rule for the picker and for every send.

        A model with groups is for members of those groups only. A group with a model limit lets its
        members use only the models listed, unless they also belong to a group without a limit:
        what groups allow adds up, as Django's permissions do.
        """
        group_ids = list(user.groups.values_list("pk", flat=True)) if user.is_authenticated else []
        members = ChatModel.groups.through.objects.filter(chatmodel_id=OuterRef("pk"))
        usable = self.filter(enabled=True).filter(
            ~Exists(members) | Exists(members.filter(group_id__in=group_ids))
        )
        limits = ModelLimit.objects.filter(group_id__in=group_ids)
        if group_ids and limits.count() == len(group_ids):
            listed = ModelLimit.allowed_models.through.objects.filter(
                chatmodel_id=OuterRef("pk"), modellimit_id__in=group_ids
            )
            usable = usable.filter(Exists(listed))
        return usable


class ChatModel(models.Model):
    """One model of the catalogue the picker offers."""

    name = models.CharField(max_length=100, unique=True, help_text="The id the upstream knows, e.g. gpt-4.1")
    label = models.CharField(max_length=100, help_text="What the picker shows.")
    description = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True, help_text="Only enabled models appear in the picker.")
    is_default = models.BooleanField(
        "default", default=False, help_text="New chats start with it unless a member chose another default."
    )
    is_reasoning = models.BooleanField(
        "reasoning model",
        default=False,
        help_text="Reasoning models take max_completion_tokens and reasoning_effort, never temperature.",
    )
    sort_order = models.PositiveIntegerField(default=0, help_text="Lower comes first in the picker.")
    # The parameter profile: chat models take temperature and max_tokens; reasoning models take
    # reasoning_effort and max_completion_tokens. Empty means the upstream's default.
    temperature = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(2)],
        help_text="Chat models only, 0 to 2. Empty: the upstream's default.",
    )
    max_output_tokens = models.PositiveIntegerField(
        "maximum output tokens",
        null=True,
        blank=True,
        help_text="Sent as max_tokens to chat models, as max_completion_tokens to reasoning models "
        "(where it includes the reasoning). Empty: no limit of ours.",
    )
    # Prices per million tokens (any currency, the same for all models); empty: replies have no cost.
    input_price = models.DecimalField(
        "input price / 1M tokens", max_digits=10, decimal_places=4, null=True, blank=True
    )
    output_price = models.DecimalField(
        "output price / 1M tokens", max_digits=10, decimal_places=4, null=True, blank=True
    )
    reasoning_effort = models.CharField(
        max_length=10,
        blank=True,
        choices=[("minimal", "minimal"), ("low", "low"), ("medium", "medium"), ("high", "high")],
        help_text="Reasoning models only; minimal only for gpt-5, gpt-5-mini and gpt-5-nano. "
        "Empty: the upstream's default.",
    )
    groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="chat_models",
        verbose_name="only for groups",
        help_text="Only members of these groups may use the model. Empty: everyone.",
    )
    missing_upstream = models.BooleanField(
        "not listed upstream",
        default=False,
        help_text="The upstream's /models did not list it at the last sync: requests for it may fail.",
    )

    objects = ChatModelQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = "model"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_model"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.name

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            if self.is_default:
                # One default at a time: choosing a new one retires the old one.
                ChatModel.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if self.is_reasoning and self.temperature is not None:
            errors["temperature"] = "Reasoning models take no temperature: leave it empty."
        if not self.is_reasoning and self.reasoning_effort:
            errors["reasoning_effort"] = "Only reasoning models take a reasoning effort: leave it empty."
        if self.reasoning_effort == "minimal" and not MINIMAL_EFFORT.match(self.name):
            errors["reasoning_effort"] = "Only gpt-5, gpt-5-mini and gpt-5-nano take minimal effort."
        if self.is_default and not self.enabled:
            errors["enabled"] = "The default model must be enabled."
        if errors:
            raise ValidationError(errors)

    def request_parameters(self) -> dict:
        """The sampling parameters this model takes, so that no request is refused for one it lacks."""
        params: dict = {}
        if self.is_reasoning:
            if self.max_output_tokens:
                params["max_completion_tokens"] = self.max_output_tokens
            if self.reasoning_effort:
                params["reasoning_effort"] = self.reasoning_effort
        else:
            if self.temperature is not None:
                params["temperature"] = self.temperature
            if self.max_output_tokens:
                params["max_tokens"] = self.max_output_tokens
        return params

    @classmethod
    def default(cls) -> ChatModel | None:
        return cls.objects.filter(enabled=True).order_by("-is_default", "sort_order", "name").first()

    @staticmethod
    def preferred(models: list[ChatModel], name: str | None = None) -> ChatModel | None:
        """Among these models: the one named, else the site's default, else the first."""
        return (
            next((m for m in models if m.name == name), None)
            or next((m for m in models if m.is_default), None)
            or (models[0] if models else None)
        )

    @classmethod
    def for_send(cls, user, name: str | None) -> ChatModel | None:
        """The model a send asks for if this user may use it; without a name, the user's default."""
        usable = cls.objects.usable_by(user)
        if name:
            return usable.filter(name=name).first()
        return cls.preferred(list(usable), Preferences.of(user).default_model_name)

    @classmethod
    def sync(cls, names: list[str]) -> CatalogueSync:
        """Add the names the catalogue lacks (disabled) and flag the models the upstream no longer lists."""
        listed = set(names)
        known = set(cls.objects.values_list("name", flat=True))
        added = [name for name in dict.fromkeys(names) if name not in known]
        with transaction.atomic():
            last = cls.objects.aggregate(last=models.Max("sort_order"))["last"] or 0
            cls.objects.bulk_create(
                [
                    cls(
                        name=name,
                        label=name,
                        enabled=False,
                        is_reasoning=looks_like_reasoning(name),
                        sort_order=last + 1 + index,
                    )
                    for index, name in enumerate(added)
                ]
            )
            cls.objects.filter(name__in=listed).update(missing_upstream=False)
            cls.objects.exclude(name__in=listed).update(missing_upstream=True)
        missing = list(cls.objects.filter(missing_upstream=True).values_list("name", flat=True))
        return CatalogueSync(added=added, missing=missing)

    @classmethod
    def sync_with_upstream(cls) -> CatalogueSync:
        """Ask the upstream which models it offers (with the team key, else any key) and sync."""
        return cls.sync(async_to_sync(upstream.list_models)(ApiKey.objects.for_catalogue()))


@dataclass
class CatalogueSync:
    added: list[str]
    missing: list[str]


class ModelLimit(models.Model):
    """A group whose members may use only the models listed (unless another group of theirs has no limit)."""

    group = models.OneToOneField(
        Group, primary_key=True, on_delete=models.CASCADE, related_name="model_limit"
    )
    allowed_models = models.ManyToManyField(
        ChatModel,
        blank=True,
        related_name="limited_groups",
        help_text="The only models members of this group may use. None ticked: no model at all.",
    )

    class Meta:
        verbose_name = "model limit"

    def __str__(self) -> str:
        return f"Models for {self.group}"


class Preferences(models.Model):
    """What a member chose on the settings page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="chat_preferences"
    )
    default_model = models.ForeignKey(
        ChatModel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="New chats start with it. Empty: the site's default.",
    )
    system_prompt = models.TextField(
        "default system prompt",
        blank=True,
        help_text="Sent first in every new conversation; each conversation can change its own.",
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    @classmethod
    def of(cls, user) -> Preferences:
        """The user's preferences, or unsaved defaults."""
        return cls.objects.filter(user=user).select_related("default_model").first() or cls(user=user)

    @property
    def default_model_name(self) -> str | None:
        return self.default_model.name if self.default_model else None


class SiteSettings(models.Model):
    """The switches admins turn in the admin; one row."""

    self_service_keys = models.BooleanField(
        "members manage their own API keys",
        default=True,
        help_text="On: members set, test and delete their own key on their settings page. "
        "Off: only admins set keys; members see which key they use.",
    )
    open_signup = models.BooleanField(
        "open sign-up",
        default=False,
        help_text="On: anyone who can reach the site can create an account. "
        "Off: admins create accounts and send invitation links.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "site settings"

    def __str__(self) -> str:
        return "Site settings"

    @classmethod
    def current(cls) -> SiteSettings:
        return cls.objects.get_or_create(pk=1)[0]


class UnreadableKeys(Exception):
    """Stored keys that no configured encryption key opens."""

    def __init__(self, keys: list[ApiKey]) -> None:
        super().__init__(", ".join(key.describe() for key in keys))
        self.keys = keys


class ApiKeyQuerySet(models.QuerySet):
    def for_user(self, user) -> ApiKey | None:
        """The user's own key first, the team key next."""
        keys = {key.user_id: key for key in self.filter(Q(user=user) | Q(is_team=True))}
        return keys.get(user.pk) or keys.get(None)

    def for_catalogue(self) -> ApiKey | None:
        """The key that asks the upstream for its models: the team key, else any key."""
        return self.order_by("-is_team", "pk").first()

    def by_encryption(self) -> dict[str, list[ApiKey]]:
        """The stored keys by the encryption key that opens them: current, older, unreadable."""
        found: dict[str, list[ApiKey]] = {"current": [], "older": [], "unreadable": []}
        for key in self.select_related("user").order_by("pk"):
            found[key.encryption_state].append(key)
        return found

    def rotate(self) -> int:
        """Re-encrypt every key under the first encryption key; all or nothing."""
        with transaction.atomic():
            keys = list(self.select_for_update().order_by("pk"))
            unreadable = []
            for key in keys:
                try:
                    key.encrypted = crypto.rotate(key.encrypted)
                except crypto.InvalidToken:
                    unreadable.append(key)
            if unreadable:
                # Nothing changes unless everything can: a half-rotated table is worse than none.
                raise UnreadableKeys(unreadable)
            self.model.objects.bulk_update(keys, ["encrypted"])
        return len(keys)


class ApiKey(models.Model):
    """A user's TokenOff key, or the team key (no user) used by members who have none."""

    class Check(models.TextChoices):
        OK = "ok", "ok"
        REJECTED = "rejected", "rejected"
        UNREACHABLE = "unreachable", "unreachable"
        UNREADABLE = "unreadable", "cannot be decrypted"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_key"
    )
    is_team = models.BooleanField(default=False, editable=False)
    encrypted = models.TextField(editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    checked = models.DateTimeField("last checked", null=True, blank=True, editable=False)
    check_result = models.CharField(max_length=12, blank=True, choices=Check.choices, editable=False)
    check_detail = models.CharField(max_length=200, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-is_team", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["is_team"], condition=Q(is_team=True), name="one_team_key"),
            models.CheckConstraint(
                condition=Q(is_team=True, user__isnull=True) | Q(is_team=False, user__isnull=False),
                name="team_key_xor_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner}: {self.masked}"

    @property
    def owner(self) -> str:
        return "Team key" if self.is_team else str(self.user)

    @property
    def masked(self) -> str:
        return f"sk-…{self.last4}"

    def describe(self) -> str:
        """How an admin finds the row: its id and owner, never the key."""
        return f"#{self.pk} ({self.owner})"

    @property
    def encryption_state(self) -> str:
        """current, older (opened by a key after the first) or unreadable (opened by none)."""
        index = crypto.opened_by(self.encrypted)
        return "unreadable" if index is None else "current" if index == 0 else "older"

    @sensitive_variables()
    def set_secret(self, secret: str) -> None:
        secret = secret.strip()
        if not secret:
            raise ValueError("An API key cannot be empty.")
        self.encrypted = crypto.encrypt(secret)
        self.last4 = secret[-4:]
        # A new key has not been checked yet.
        self.checked, self.check_result, self.check_detail = None, "", ""

    def reveal(self) -> str:
        """The key in clear: only upstream.py's call path asks for it."""
        return crypto.decrypt(self.encrypted)

    @classmethod
    @sensitive_variables()
    def store(cls, secret: str, user=None) -> ApiKey:
        """Set or replace the user's key, or the team key when no user is given."""
        key = cls.objects.filter(user=user).first() if user else cls.objects.filter(is_team=True).first()
        key = key or cls(user=user, is_team=user is None)
        key.set_secret(secret)
        key.save()
        return key

    def check_with_upstream(self) -> upstream.KeyCheck:
        """Ask the upstream's /models whether it takes this key, and keep the answer on the row."""
        outcome = async_to_sync(upstream.check_key)(self)
        self.checked, self.check_result, self.check_detail = timezone.now(), outcome.result, outcome.detail
        ApiKey.objects.filter(pk=self.pk).update(
            checked=self.checked, check_result=self.check_result, check_detail=self.check_detail[:200]
        )
        return outcome


class ConversationQuerySet(models.QuerySet):
    def owned_by(self, user) -> ConversationQuerySet:
        # One the owner deleted while it was flagged is gone for them: only review still sees it.
        return self.filter(owner=user, owner_deleted__isnull=True)


class Conversation(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=100)
    system_prompt = models.TextField(blank=True, help_text="Sent first, before the messages.")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now, help_text="Last activity")
    pinned = models.BooleanField(default=False, help_text="Kept at the top of the owner's list")
    archived = models.BooleanField(default=False, help_text="Out of the owner's list, still searchable")
    # The last message of the branch on show: edits and regenerations fork the thread (threads.py).
    leaf = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner_deleted = models.DateTimeField(
        null=True, blank=True, help_text="Deleted by its owner while flagged: kept for review until resolved"
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated", "-id"]
        indexes = [
            # The sidebar: one user's pinned, then the rest by last activity, archived apart.
            models.Index(
                fields=["owner", "archived", "pinned", "-updated", "-id"], name="conversation_sidebar"
            ),
            # Review lists every conversation by last activity, and retention finds the old ones.
            models.Index(fields=["-updated", "-id"], name="conversation_activity"),
        ]
        permissions = [("review_conversation", "Can review every user's conversations")]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"

    @staticmethod
    def title_from(text: str, words: int = 8, limit: int = 80) -> str:
        """A first title: the first words of the question, until a better one is set."""
        title = " ".join(text.split()[:words])
        return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"

    def history(self) -> list[dict]:
        """The branch on show, to send upstream: the system prompt, then oldest first, without the reply."""
        from chat import threads

        rows = [
            {"role": m.role, "content": m.content}
            for m in threads.branch(self)
            if m.status != Message.Status.STREAMING
        ]
        messages = [row for row in rows if row["content"] or row["role"] == Message.Role.USER]
        if self.system_prompt:
            return [{"role": Message.Role.SYSTEM.value, "content": self.system_prompt}, *messages]
        return messages


class Message(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system"
        USER = "user"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        STREAMING = "streaming"
        DONE = "done"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The message this one follows; siblings (same parent) are the versions an edit or a
    # regeneration made. None for the first message of a conversation (and its edits).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    model = models.CharField("model asked for", max_length=100, blank=True)
    served_model = models.CharField("model served", max_length=100, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    usage = models.JSONField(null=True, blank=True)
    usage_estimated = models.BooleanField(default=False, help_text="The upstream gave no count: estimated")
    # The counts again as columns, so that reports add them up in SQL on any database.
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    via_team_key = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    last_seq = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    # Which process runs a streaming reply (its channel name) and when it last said so: how a
    # reply left behind by a dead process is told from a live one on another process.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One reply in flight per conversation, enforced by the database across processes.
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(status="streaming"), name="one_reply_in_flight"
            )
        ]
        indexes = [models.Index(fields=["status"], condition=Q(status="streaming"), name="streaming_replies")]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}"

    def as_export(self) -> dict:
        return {
            "id": self.pk,
            "parent": self.parent_id,
            "role": self.role,
            "content": self.content,
            "model": self.model,
            "served_model": self.served_model or None,
            "finish_reason": self.finish_reason or None,
            "usage": self.usage,
            "created": self.created.isoformat(),
        }


# Models kept in their own modules, imported here so that Django registers them.
from chat.audit import AuditEntry  # noqa: E402
from chat.budgets import Budget, Spend  # noqa: E402
from chat.feedback import Feedback  # noqa: E402
from chat.flags import Flag  # noqa: E402
from chat.review_policy import ReviewNotice  # noqa: E402

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Budget",
    "ChatModel",
    "Conversation",
    "Feedback",
    "Flag",
    "Message",
    "ModelLimit",
    "Preferences",
    "ReviewNotice",
    "SiteSettings",
    "Spend",
]
