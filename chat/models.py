"""The chat's data and the rules that belong to it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from chat import crypto


class ChatModel(models.Model):
    """One model of the catalogue the picker offers."""

    name = models.CharField(max_length=100, unique=True, help_text="The id the upstream knows, e.g. gpt-4.1")
    label = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField("default", default=False)
    is_reasoning = models.BooleanField(
        "reasoning model",
        default=False,
        help_text="Reasoning models take max_completion_tokens and reasoning_effort, never temperature.",
    )
    sort_order = models.PositiveIntegerField(default=0)
    # The parameter profile: chat models take temperature and max_tokens; reasoning models take
    # reasoning_effort and max_completion_tokens. Empty means the upstream's default.
    temperature = models.FloatField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
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
    )

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_model"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.name

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

    @classmethod
    def sync(cls, names: list[str]) -> list[str]:
        """Add the names the catalogue lacks, disabled; returns them."""
        known = set(cls.objects.values_list("name", flat=True))
        added = [name for name in dict.fromkeys(names) if name not in known]
        cls.objects.bulk_create([cls(name=name, label=name, enabled=False) for name in added])
        return added

    @classmethod
    def usable(cls, name: str | None) -> ChatModel | None:
        """The enabled model of that name, or the default one when no name is given."""
        if not name:
            return cls.default()
        return cls.objects.filter(name=name, enabled=True).first()


class ApiKeyQuerySet(models.QuerySet):
    def for_user(self, user) -> ApiKey | None:
        """The user's own key first, the team key next."""
        keys = {key.user_id: key for key in self.filter(Q(user=user) | Q(is_team=True))}
        return keys.get(user.pk) or keys.get(None)


class ApiKey(models.Model):
    """A user's TokenOff key, or the team key (no user) used by members who have none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_key"
    )
    is_team = models.BooleanField(default=False, editable=False)
    encrypted = models.TextField(editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(fields=["is_team"], condition=Q(is_team=True), name="one_team_key"),
            models.CheckConstraint(
                condition=Q(is_team=True, user__isnull=True) | Q(is_team=False, user__isnull=False),
                name="team_key_xor_user",
            ),
        ]

    def __str__(self) -> str:
        owner = "team" if self.is_team else str(self.user)
        return f"{owner}: {self.masked}"

    @property
    def masked(self) -> str:
        return f"sk-…{self.last4}"

    def set_secret(self, secret: str) -> None:
        secret = secret.strip()
        if not secret:
            raise ValueError("An API key cannot be empty.")
        self.encrypted = crypto.encrypt(secret)
        self.last4 = secret[-4:]

    def reveal(self) -> str:
        """The key in clear: only upstream.py's call path asks for it."""
        return crypto.decrypt(self.encrypted)

    @classmethod
    def store(cls, secret: str, user=None) -> ApiKey:
        """Set or replace the user's key, or the team key when no user is given."""
        key = cls.objects.filter(user=user).first() if user else cls.objects.filter(is_team=True).first()
        key = key or cls(user=user, is_team=user is None)
        key.set_secret(secret)
        key.save()
        return key


class ConversationQuerySet(models.QuerySet):
    def owned_by(self, user) -> ConversationQuerySet:
        return self.filter(owner=user)


class Conversation(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=100)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now, help_text="Last activity")

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated", "-id"]
        indexes = [
            models.Index(fields=["owner", "-updated", "-id"], name="conversation_sidebar"),
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
        """The messages to send upstream, oldest first, without the reply being written."""
        rows = self.messages.exclude(status=Message.Status.STREAMING).order_by("id").values("role", "content")
        return [row for row in rows if row["content"] or row["role"] == Message.Role.USER]


class Message(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system"
        USER = "user"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        STREAMING = "streaming"
        DONE = "done"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
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
    "ReviewNotice",
    "Spend",
]
