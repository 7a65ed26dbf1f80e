"""The model catalogue the picker offers, and which groups may use which models."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q

from chat.models.site import Preferences

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
