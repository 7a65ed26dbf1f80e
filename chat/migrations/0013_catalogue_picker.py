"""The picker's facts about each model (family, vision, context window) and a line describing it.

The schema, with ChatModel's and ModelLimit's names made translatable; then the facts for the 24 models
0002 seeds (the issue counted 30: 0002 seeds 24, so those are the ones filled). Public facts from
OpenAI's model pages. Only empty fields are filled, so an admin's edits are kept; `vision` is new
here, so nobody has set it yet. Families and descriptions are marked for translation: the picker
shows them in the page's language while they are as seeded (chat/conversations/picker.py).
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models
from django.utils.translation import gettext_noop

M = 1_047_576  # the GPT-4.1 family's context window, "1M"

# name: (family, vision, context window in tokens, description)
FACTS = {
    "gpt-5.4": (gettext_noop("GPT-5"), True, 1_050_000, gettext_noop("OpenAI's frontier model for complex professional work, coding and long documents.")),
    "gpt-5.4-mini": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("A faster, cheaper GPT-5.4, strong at coding and as a helper for quick tasks.")),
    "gpt-5.4-nano": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("The smallest, cheapest GPT-5.4: classification, extraction and high-volume work.")),
    "gpt-5.2": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("GPT-5.2, a flagship for coding and multi-step tasks across many fields.")),
    "gpt-5.1": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("GPT-5.1 thinks longer only when a question needs it; a warmer conversational style.")),
    "gpt-5": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("The first GPT-5: careful reasoning for coding and multi-step problems.")),
    "gpt-5-mini": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("A faster, cheaper GPT-5 for well-defined tasks.")),
    "gpt-5-nano": (gettext_noop("GPT-5"), True, 400_000, gettext_noop("The fastest, cheapest GPT-5: summaries, sorting and simple questions.")),
    "gpt-4.1": (gettext_noop("GPT-4.1"), True, M, gettext_noop("Answers at once, without a reasoning step: follows instructions well, reads very long inputs.")),
    "gpt-4.1-mini": (gettext_noop("GPT-4.1"), True, M, gettext_noop("A faster, cheaper GPT-4.1 that keeps its million-token context.")),
    "gpt-4.1-nano": (gettext_noop("GPT-4.1"), True, M, gettext_noop("The fastest, cheapest GPT-4.1, for short lookups and classification.")),
    "gpt-4o": (gettext_noop("GPT-4o"), True, 128_000, gettext_noop("A fast, versatile model for everyday chat and questions about images.")),
    "gpt-4o-mini": (gettext_noop("GPT-4o"), True, 128_000, gettext_noop("A small, inexpensive GPT-4o for simple, focused tasks.")),
    "o4-mini": (gettext_noop("o-series"), True, 200_000, gettext_noop("A fast, affordable reasoning model, good at math, code and visual problems.")),
    "o3": (gettext_noop("o-series"), True, 200_000, gettext_noop("A thorough reasoning model for math, science, code and analysing images.")),
    "o3-mini": (gettext_noop("o-series"), False, 200_000, gettext_noop("A small reasoning model for science, math and code; text only.")),
    "o3-pro": (gettext_noop("o-series"), True, 200_000, gettext_noop("o3 thinking longer on hard problems: slower, more reliable answers.")),
    "gpt-5.3-codex": (gettext_noop("Codex"), True, 400_000, gettext_noop("The most capable Codex model, for long agentic coding tasks.")),
    "gpt-5.3-codex-spark": (gettext_noop("Codex"), False, 128_000, gettext_noop("A small Codex model for near-instant edits while you work; text only.")),
    "gpt-5.2-codex": (gettext_noop("Codex"), True, 400_000, gettext_noop("GPT-5.2 tuned for coding agents: long refactors and migrations.")),
    "gpt-5.1-codex-max": (gettext_noop("Codex"), True, 400_000, gettext_noop("Codex for project-scale work that runs for hours across many context windows.")),
    "gpt-5.1-codex": (gettext_noop("Codex"), True, 400_000, gettext_noop("GPT-5.1 tuned for agentic coding in Codex and similar tools.")),
    "gpt-5-codex": (gettext_noop("Codex"), True, 400_000, gettext_noop("GPT-5 tuned for agentic coding in Codex and similar tools.")),
    "gpt-5.1-codex-mini": (gettext_noop("Codex"), True, 400_000, gettext_noop("A smaller, cheaper GPT-5.1-Codex for routine coding tasks.")),
}


def fill(apps, schema_editor):
    ChatModel = apps.get_model("chat", "ChatModel")
    for model in ChatModel.objects.filter(name__in=FACTS):
        family, vision, context_window, description = FACTS[model.name]
        model.family = model.family or family
        model.vision = vision
        model.context_window = model.context_window or context_window
        model.description = model.description or description
        model.save(update_fields=["family", "vision", "context_window", "description"])


def unfill(apps, schema_editor):
    # The new fields go with the schema; take back only the descriptions nobody has changed since.
    ChatModel = apps.get_model("chat", "ChatModel")
    for name, (_family, _vision, _window, description) in FACTS.items():
        ChatModel.objects.filter(name=name, description=description).update(description="")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("chat", "0012_message_error_message"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="chatmodel",
            options={
                "ordering": ["sort_order", "name"],
                "verbose_name": "model",
                "verbose_name_plural": "models",
            },
        ),
        migrations.AlterModelOptions(
            name="modellimit",
            options={"verbose_name": "model limit", "verbose_name_plural": "model limits"},
        ),
        migrations.AddField(
            model_name="chatmodel",
            name="context_window",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Tokens the model reads and writes in one request. Empty: unknown.",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="context window",
            ),
        ),
        migrations.AddField(
            model_name="chatmodel",
            name="family",
            field=models.CharField(
                blank=True,
                help_text="The picker groups models by it, e.g. GPT-5, GPT-4.1, o-series.",
                max_length=40,
                verbose_name="family",
            ),
        ),
        migrations.AddField(
            model_name="chatmodel",
            name="vision",
            field=models.BooleanField(
                default=False, help_text="Takes images as input.", verbose_name="vision"
            ),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="description",
            field=models.CharField(
                blank=True,
                help_text="One line under the label in the picker.",
                max_length=300,
                verbose_name="description",
            ),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="enabled",
            field=models.BooleanField(
                default=True, help_text="Only enabled models appear in the picker.", verbose_name="enabled"
            ),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="label",
            field=models.CharField(help_text="What the picker shows.", max_length=100, verbose_name="label"),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="name",
            field=models.CharField(
                help_text="The id the upstream knows, e.g. gpt-4.1",
                max_length=100,
                unique=True,
                verbose_name="name",
            ),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="reasoning_effort",
            field=models.CharField(
                blank=True,
                choices=[("minimal", "minimal"), ("low", "low"), ("medium", "medium"), ("high", "high")],
                help_text="Reasoning models only; minimal only for gpt-5, gpt-5-mini and gpt-5-nano. Empty: the upstream's default.",
                max_length=10,
                verbose_name="reasoning effort",
            ),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="sort_order",
            field=models.PositiveIntegerField(
                default=0, help_text="Lower comes first in the picker.", verbose_name="sort order"
            ),
        ),
        migrations.AlterField(
            model_name="chatmodel",
            name="temperature",
            field=models.FloatField(
                blank=True,
                help_text="Chat models only, 0 to 2. Empty: the upstream's default.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(2),
                ],
                verbose_name="temperature",
            ),
        ),
        migrations.AlterField(
            model_name="modellimit",
            name="allowed_models",
            field=models.ManyToManyField(
                blank=True,
                help_text="The only models members of this group may use. None ticked: no model at all.",
                related_name="limited_groups",
                to="chat.chatmodel",
                verbose_name="allowed models",
            ),
        ),
        migrations.AlterField(
            model_name="modellimit",
            name="group",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="model_limit",
                serialize=False,
                to="auth.group",
                verbose_name="group",
            ),
        ),
        migrations.RunPython(fill, unfill),
    ]
