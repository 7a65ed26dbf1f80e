"""The model catalogue the picker offers, and which groups may use which models."""

from __future__ import annotations

import copy
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from chat.models import freshness
from chat.models.site import Preferences

# The o-series and the whole GPT-5 family reason: they take max_completion_tokens, and refuse
# temperature and top_p. Used only to guess the profile of a model sync_models adds (disabled, for an
# admin to review); the catalogue's rows say what each model takes.
REASONING_NAME = re.compile(r"^(o\d|gpt-5)")
# Every reasoning effort some model takes, lowest first; each model's row lists its own.
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
VERBOSITIES = ("low", "medium", "high")


# A context window of at least this many tokens counts as "long context" in the picker.
LONG_CONTEXT_TOKENS = 200_000
# Relative price: a model's blended price (3 parts input to 1 part output, the usual mix of a chat)
# against the median of the priced models offered. At most half of it is "$", up to twice it "$$",
# more "$$$". Relative, so it holds in any currency; no tier without prices.
PRICE_TIER_BOUNDS = (0.5, 2.0)


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

    def update(self, **kwargs) -> int:
        with transaction.atomic(using=self.db, savepoint=False):
            count = super().update(**kwargs)
            freshness.bump(self.db)  # in the change's transaction: the next send sees it
        return count

    def bulk_create(self, objs, *args, **kwargs):
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            freshness.bump(self.db)
        return created


@dataclass(frozen=True)
class Catalogue:
    """The enabled models and who may use them, as usable_by reads them: cached for every send."""

    models: tuple[ChatModel, ...]  # in the catalogue's order
    kept_for: dict[int, frozenset[int]]  # a model's groups (absent: for everyone)
    limits: dict[int, frozenset[int]]  # a limited group's listed models

    @classmethod
    def load(cls) -> Catalogue:
        enabled = tuple(ChatModel.objects.filter(enabled=True))
        kept_for, limits = defaultdict(set), defaultdict(set)
        members = ChatModel.groups.through.objects.filter(chatmodel__enabled=True)
        for model_id, group_id in members.values_list("chatmodel_id", "group_id"):
            kept_for[model_id].add(group_id)
        for group_id in ModelLimit.objects.values_list("group_id", flat=True):
            limits[group_id] = set()
        for group_id, model_id in ModelLimit.allowed_models.through.objects.values_list(
            "modellimit_id", "chatmodel_id"
        ):
            limits[group_id].add(model_id)
        return cls(
            enabled,
            {model: frozenset(groups) for model, groups in kept_for.items()},
            {group: frozenset(listed) for group, listed in limits.items()},
        )

    def usable(self, group_ids: frozenset[int]) -> list[ChatModel]:
        """usable_by's rule on these facts (tests/models/test_send_facts.py holds the two together)."""
        limited = bool(group_ids) and all(group in self.limits for group in group_ids)
        listed = set().union(*(self.limits[group] for group in group_ids)) if limited else set()
        return [
            model
            for model in self.models
            if (model.pk not in self.kept_for or self.kept_for[model.pk] & group_ids)
            and (not limited or model.pk in listed)
        ]


class ChatModel(models.Model):
    """One model of the catalogue the picker offers."""

    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("The id the upstream knows, e.g. gpt-4.1")
    )
    label = models.CharField(_("label"), max_length=100, help_text=_("What the picker shows."))
    description = models.CharField(
        _("description"), max_length=300, blank=True, help_text=_("One line under the label in the picker.")
    )
    family = models.CharField(
        _("family"),
        max_length=40,
        blank=True,
        help_text=_("The picker groups models by it, e.g. GPT-5, GPT-4.1, o-series."),
    )
    vision = models.BooleanField(_("vision"), default=False, help_text=_("Takes images as input."))
    context_window = models.PositiveIntegerField(
        _("context window"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Tokens the model reads and writes in one request. Empty: unknown."),
    )
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Only enabled models appear in the picker.")
    )
    is_default = models.BooleanField(
        _("default"),
        default=False,
        help_text=_("New chats start with it unless a member chose another default."),
    )
    is_reasoning = models.BooleanField(
        _("reasoning model"),
        default=False,
        help_text=_("Shown as reasoning in the picker; sent max_completion_tokens instead of max_tokens."),
    )
    sort_order = models.PositiveIntegerField(
        _("sort order"), default=0, help_text=_("Lower comes first in the picker.")
    )
    # What the model takes: the request builder sends only these, so no request is refused for a
    # parameter the model lacks. Public facts, seeded by 0015; an admin corrects them here.
    max_output_limit = models.PositiveIntegerField(
        _("maximum output (the model's)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("The most tokens the model writes in one reply, reasoning included. Empty: unknown."),
    )
    takes_temperature = models.BooleanField(
        _("takes temperature"), default=True, help_text=_("Reasoning models refuse it.")
    )
    takes_top_p = models.BooleanField(
        _("takes top_p"), default=True, help_text=_("Reasoning models refuse it.")
    )
    reasoning_efforts = models.CharField(
        _("reasoning efforts"),
        max_length=60,
        blank=True,
        help_text=_(
            "The values of reasoning_effort the model takes, comma-separated, lowest first, "
            "e.g. minimal,low,medium,high. Empty: it takes none."
        ),
    )
    default_reasoning_effort = models.CharField(
        _("default reasoning effort"),
        max_length=10,
        blank=True,
        choices=[(effort, effort) for effort in EFFORTS],
        help_text=_("The effort the upstream uses when none is sent (one of the efforts above)."),
    )
    takes_verbosity = models.BooleanField(
        _("takes verbosity"), default=False, help_text=_("low, medium or high: the GPT-5 models.")
    )
    # The admin's fixed choices, sent with every request when the model takes them. Empty means the
    # upstream's default.
    temperature = models.FloatField(
        _("temperature"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(2)],
        help_text=_("0 to 2, for a model that takes it. Empty: the upstream's default."),
    )
    top_p = models.FloatField(
        _("top_p"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("0 to 1, for a model that takes it. Empty: the upstream's default."),
    )
    max_output_tokens = models.PositiveIntegerField(
        _("maximum output tokens"),
        null=True,
        blank=True,
        help_text=_(
            "Our cap, at most the model's maximum: sent as max_tokens, or as max_completion_tokens to "
            "reasoning models (where it includes the reasoning). Empty: no limit of ours."
        ),
    )
    reasoning_effort = models.CharField(
        _("reasoning effort"),
        max_length=10,
        blank=True,
        choices=[(effort, effort) for effort in EFFORTS],
        help_text=_("One of the model's reasoning efforts. Empty: the upstream's default."),
    )
    verbosity = models.CharField(
        _("verbosity"),
        max_length=10,
        blank=True,
        choices=[(value, value) for value in VERBOSITIES],
        help_text=_("For a model that takes it. Empty: the upstream's default (medium)."),
    )
    # Prices per million tokens (any currency, the same for all models); empty: replies have no cost.
    input_price = models.DecimalField(
        _("input price / 1M tokens"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    cached_input_price = models.DecimalField(
        _("cached input price / 1M tokens"),
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("For input the upstream serves from its prompt cache. Empty: not known."),
    )
    output_price = models.DecimalField(
        _("output price / 1M tokens"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="chat_models",
        verbose_name=_("only for groups"),
        help_text=_("Only members of these groups may use the model. Empty: everyone."),
    )
    missing_upstream = models.BooleanField(
        _("not listed upstream"),
        default=False,
        help_text=_("The upstream's /models did not list it at the last sync: requests for it may fail."),
    )

    objects = ChatModelQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("model")
        verbose_name_plural = _("models")
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
        errors = self._capability_errors()
        if self.is_default and not self.enabled:
            errors["enabled"] = "The default model must be enabled."
        if errors:
            raise ValidationError(errors)

    def _capability_errors(self) -> dict[str, str]:
        """The admin's fixed choices checked against what the model takes, and the table itself."""
        errors = {}
        efforts = [effort.strip() for effort in self.reasoning_efforts.split(",") if effort.strip()]
        if any(effort not in EFFORTS for effort in efforts) or len(set(efforts)) != len(efforts):
            errors["reasoning_efforts"] = f"Comma-separated, each once, among: {', '.join(EFFORTS)}."
        else:
            efforts.sort(key=EFFORTS.index)
            self.reasoning_efforts = ",".join(efforts)
        if self.default_reasoning_effort and self.default_reasoning_effort not in efforts:
            errors["default_reasoning_effort"] = "The default must be one of the model's reasoning efforts."
        if self.reasoning_effort and self.reasoning_effort not in efforts:
            takes = f"takes {', '.join(efforts)}" if efforts else "takes no reasoning effort"
            errors["reasoning_effort"] = f"This model {takes}."
        if self.temperature is not None and not self.takes_temperature:
            kind = "Reasoning models take" if self.is_reasoning else "This model takes"
            errors["temperature"] = f"{kind} no temperature: leave it empty."
        if self.top_p is not None and not self.takes_top_p:
            errors["top_p"] = "This model takes no top_p: leave it empty."
        if self.verbosity and not self.takes_verbosity:
            errors["verbosity"] = "This model takes no verbosity: leave it empty."
        limit = self.max_output_limit
        if self.max_output_tokens and limit and self.max_output_tokens > limit:
            errors["max_output_tokens"] = f"This model writes at most {self.max_output_limit} tokens."
        return errors

    @property
    def efforts(self) -> list[str]:
        """The reasoning efforts the model takes, lowest first."""
        return [effort for effort in self.reasoning_efforts.split(",") if effort in EFFORTS]

    @property
    def long_context(self) -> bool:
        return (self.context_window or 0) >= LONG_CONTEXT_TOKENS

    @property
    def blended_price(self) -> float | None:
        """Per million tokens, 3 parts input to 1 part output; None without both prices."""
        if self.input_price is None or self.output_price is None:
            return None
        return float(3 * self.input_price + self.output_price) / 4

    def request_parameters(self) -> dict:
        """The admin's fixed choices the model takes, and nothing it does not take: a choice the table
        says it refuses (set behind the admin's back) stays out, and our cap stays within its own."""
        params: dict = {}
        if self.temperature is not None and self.takes_temperature:
            params["temperature"] = self.temperature
        if self.top_p is not None and self.takes_top_p:
            params["top_p"] = self.top_p
        if self.reasoning_effort and self.reasoning_effort in self.efforts:
            params["reasoning_effort"] = self.reasoning_effort
        if self.verbosity and self.takes_verbosity:
            params["verbosity"] = self.verbosity
        if self.max_output_tokens:
            limit = min(self.max_output_tokens, self.max_output_limit or self.max_output_tokens)
            params["max_completion_tokens" if self.is_reasoning else "max_tokens"] = limit
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
        """The model a send asks for if this user may use it; without a name, the user's default.

        From the send facts (chat/models/freshness.py): a copy, which the caller may change."""
        if not user.is_authenticated:  # no one's facts to cache: the rule itself
            usable = list(cls.objects.usable_by(user))
            return next((m for m in usable if m.name == name), None) if name else cls.preferred(usable)
        with freshness.snapshot():
            catalogue = freshness.cached(("catalogue",), Catalogue.load)
            group_ids = freshness.cached(
                ("groups", user.pk), lambda: frozenset(user.groups.values_list("pk", flat=True))
            )
            usable = catalogue.usable(group_ids)
            if name:
                chosen = next((model for model in usable if model.name == name), None)
            else:
                chosen = cls.preferred(usable, Preferences.of(user, cached=True).default_model_name)
        return copy.copy(chosen) if chosen is not None else None

    @classmethod
    def sync(cls, names: list[str], entries: dict[str, dict] | None = None) -> CatalogueSync:
        """Add the names the catalogue lacks (disabled) and flag the models the upstream no longer lists.

        Where the upstream's /models entry says what a model takes (`entries`, see upstream_facts), a
        new row takes it, and a known row gets the limits it still lacks: an admin's values stay."""
        facts = {name: upstream_facts(entry) for name, entry in (entries or {}).items()}
        listed = set(names)
        known = set(cls.objects.values_list("name", flat=True))
        added = [name for name in dict.fromkeys(names) if name not in known]
        with transaction.atomic():
            for name in listed & known:
                for field in ("context_window", "max_output_limit"):
                    if field in facts.get(name, {}):
                        cls.objects.filter(name=name, **{f"{field}__isnull": True}).update(
                            **{field: facts[name][field]}
                        )
            last = cls.objects.aggregate(last=models.Max("sort_order"))["last"] or 0
            cls.objects.bulk_create(
                [
                    cls(
                        name=name,
                        label=name,
                        enabled=False,
                        # A guess for the admin to review; it takes no effort until they list them.
                        is_reasoning=looks_like_reasoning(name),
                        takes_temperature=not looks_like_reasoning(name),
                        takes_top_p=not looks_like_reasoning(name),
                        sort_order=last + 1 + index,
                        **facts.get(name, {}),
                    )
                    for index, name in enumerate(added)
                ]
            )
            cls.objects.filter(name__in=listed).update(missing_upstream=False)
            cls.objects.exclude(name__in=listed).update(missing_upstream=True)
        missing = list(cls.objects.filter(missing_upstream=True).values_list("name", flat=True))
        return CatalogueSync(added=added, missing=missing)


def _positive(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None


def upstream_facts(entry: dict) -> dict:
    """What an upstream's /models entry says of a model, as catalogue fields: only what it states.

    OpenAI's entries state none of it. OpenAI-compatible upstreams that do use these names:
    `context_window` or `context_length`; `max_output_tokens`, `max_completion_tokens` or
    `top_provider.max_completion_tokens`; `input_modalities` or `architecture.input_modalities`
    (a list: "image" in it means vision)."""
    if not isinstance(entry, dict):
        return {}
    provider = entry.get("top_provider") if isinstance(entry.get("top_provider"), dict) else {}
    architecture = entry.get("architecture") if isinstance(entry.get("architecture"), dict) else {}
    facts: dict = {}
    window = _positive(entry.get("context_window")) or _positive(entry.get("context_length"))
    if window:
        facts["context_window"] = window
    output = (
        _positive(entry.get("max_output_tokens"))
        or _positive(entry.get("max_completion_tokens"))
        or _positive(provider.get("max_completion_tokens"))
    )
    if output:
        facts["max_output_limit"] = output
    modalities = entry.get("input_modalities", architecture.get("input_modalities"))
    if isinstance(modalities, list):
        facts["vision"] = "image" in modalities
    return facts


def price_tiers(models: list[ChatModel]) -> dict[str, int]:
    """Each priced model's relative price, 1 to 3 (see PRICE_TIER_BOUNDS); unpriced models have none."""
    priced = {m.name: m.blended_price for m in models if m.blended_price is not None}
    if not priced:
        return {}
    middle = statistics.median(priced.values())
    low, high = PRICE_TIER_BOUNDS
    if middle <= 0:  # mostly free: only what costs something stands out
        return {name: 1 if price <= 0 else 3 for name, price in priced.items()}
    return {
        name: 1 if price <= middle * low else 2 if price <= middle * high else 3
        for name, price in priced.items()
    }


@dataclass
class CatalogueSync:
    added: list[str]
    missing: list[str]


class ModelLimit(models.Model):
    """A group whose members may use only the models listed (unless another group of theirs has no limit)."""

    group = models.OneToOneField(
        Group, primary_key=True, on_delete=models.CASCADE, related_name="model_limit", verbose_name=_("group")
    )
    allowed_models = models.ManyToManyField(
        ChatModel,
        blank=True,
        related_name="limited_groups",
        verbose_name=_("allowed models"),
        help_text=_("The only models members of this group may use. None ticked: no model at all."),
    )

    class Meta:
        verbose_name = _("model limit")
        verbose_name_plural = _("model limits")

    def __str__(self) -> str:
        return f"Models for {self.group}"
