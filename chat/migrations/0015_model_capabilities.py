"""What each model takes: its own maximum output, temperature, top_p, reasoning efforts, verbosity.

The schema, then the facts for the 24 models 0002 seeds, from OpenAI's model pages and the values its API
names when it refuses one ("Supported values are: ..."): the GPT-5 models before 5.1 take minimal to high
effort (medium by default); 5.1 takes none to high, 5.2 and 5.4 none to xhigh (none by default); the Codex
models reason always (no none), 5.1-Codex-Mini takes medium and high only, Max and later add xhigh; the
o-series takes low to high. Reasoning models refuse temperature and top_p; GPT-4.1 and GPT-4o take both and
no effort; verbosity is for the GPT-5 chat models. The fields are new, so nobody has set them yet. Other rows
(added by sync_models) keep what the old rules gave them: a reasoning row takes no temperature or top_p, and
the effort an admin chose. Prices are the upstream's (TokenOff's), in the site's currency: not seeded.
"""

import django.core.validators
from django.db import migrations, models

# The effort lists, lowest first.
GPT5 = "minimal,low,medium,high"
GPT51 = "none,low,medium,high"
GPT52 = "none,low,medium,high,xhigh"
CODEX = "low,medium,high"
CODEX_MAX = "low,medium,high,xhigh"
O_SERIES = "low,medium,high"

# name: (the model's maximum output, takes temperature and top_p, efforts, default effort, takes verbosity)
FACTS = {
    "gpt-5.4": (128_000, False, GPT52, "none", True),
    "gpt-5.4-mini": (128_000, False, GPT52, "none", True),
    "gpt-5.4-nano": (128_000, False, GPT52, "none", True),
    "gpt-5.2": (128_000, False, GPT52, "none", True),
    "gpt-5.1": (128_000, False, GPT51, "none", True),
    "gpt-5": (128_000, False, GPT5, "medium", True),
    "gpt-5-mini": (128_000, False, GPT5, "medium", True),
    "gpt-5-nano": (128_000, False, GPT5, "medium", True),
    "gpt-4.1": (32_768, True, "", "", False),
    "gpt-4.1-mini": (32_768, True, "", "", False),
    "gpt-4.1-nano": (32_768, True, "", "", False),
    "gpt-4o": (16_384, True, "", "", False),
    "gpt-4o-mini": (16_384, True, "", "", False),
    "o4-mini": (100_000, False, O_SERIES, "medium", False),
    "o3": (100_000, False, O_SERIES, "medium", False),
    "o3-mini": (100_000, False, O_SERIES, "medium", False),
    "o3-pro": (100_000, False, O_SERIES, "medium", False),
    "gpt-5.3-codex": (128_000, False, CODEX_MAX, "medium", False),
    "gpt-5.3-codex-spark": (None, False, CODEX, "medium", False),
    "gpt-5.2-codex": (128_000, False, CODEX_MAX, "medium", False),
    "gpt-5.1-codex-max": (128_000, False, CODEX_MAX, "medium", False),
    "gpt-5.1-codex": (128_000, False, CODEX, "medium", False),
    "gpt-5-codex": (128_000, False, CODEX, "medium", False),
    "gpt-5.1-codex-mini": (128_000, False, "medium,high", "medium", False),
}


def fill(apps, schema_editor):
    ChatModel = apps.get_model("chat", "ChatModel")
    for model in ChatModel.objects.all():
        if model.name in FACTS:
            limit, sampling, efforts, default, verbosity = FACTS[model.name]
        else:
            limit, sampling, efforts, default, verbosity = None, not model.is_reasoning, "", "", False
            efforts = model.reasoning_effort if model.is_reasoning else ""
        model.max_output_limit = limit
        model.takes_temperature = model.takes_top_p = sampling
        model.reasoning_efforts, model.default_reasoning_effort = efforts, default
        model.takes_verbosity = verbosity
        model.save()


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0014_admin_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='chatmodel',
            name='cached_input_price',
            field=models.DecimalField(blank=True, decimal_places=4, help_text='For input the upstream serves from its prompt cache. Empty: not known.', max_digits=10, null=True, verbose_name='cached input price / 1M tokens'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='default_reasoning_effort',
            field=models.CharField(blank=True, choices=[('none', 'none'), ('minimal', 'minimal'), ('low', 'low'), ('medium', 'medium'), ('high', 'high'), ('xhigh', 'xhigh')], help_text='The effort the upstream uses when none is sent (one of the efforts above).', max_length=10, verbose_name='default reasoning effort'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='max_output_limit',
            field=models.PositiveIntegerField(blank=True, help_text='The most tokens the model writes in one reply, reasoning included. Empty: unknown.', null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name="maximum output (the model's)"),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='reasoning_efforts',
            field=models.CharField(blank=True, help_text='The values of reasoning_effort the model takes, comma-separated, lowest first, e.g. minimal,low,medium,high. Empty: it takes none.', max_length=60, verbose_name='reasoning efforts'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='takes_temperature',
            field=models.BooleanField(default=True, help_text='Reasoning models refuse it.', verbose_name='takes temperature'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='takes_top_p',
            field=models.BooleanField(default=True, help_text='Reasoning models refuse it.', verbose_name='takes top_p'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='takes_verbosity',
            field=models.BooleanField(default=False, help_text='low, medium or high: the GPT-5 models.', verbose_name='takes verbosity'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='top_p',
            field=models.FloatField(blank=True, help_text="0 to 1, for a model that takes it. Empty: the upstream's default.", null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1)], verbose_name='top_p'),
        ),
        migrations.AddField(
            model_name='chatmodel',
            name='verbosity',
            field=models.CharField(blank=True, choices=[('low', 'low'), ('medium', 'medium'), ('high', 'high')], help_text="For a model that takes it. Empty: the upstream's default (medium).", max_length=10, verbose_name='verbosity'),
        ),
        migrations.AlterField(
            model_name='chatmodel',
            name='is_reasoning',
            field=models.BooleanField(default=False, help_text='Shown as reasoning in the picker; sent max_completion_tokens instead of max_tokens.', verbose_name='reasoning model'),
        ),
        migrations.AlterField(
            model_name='chatmodel',
            name='max_output_tokens',
            field=models.PositiveIntegerField(blank=True, help_text="Our cap, at most the model's maximum: sent as max_tokens, or as max_completion_tokens to reasoning models (where it includes the reasoning). Empty: no limit of ours.", null=True, verbose_name='maximum output tokens'),
        ),
        migrations.AlterField(
            model_name='chatmodel',
            name='reasoning_effort',
            field=models.CharField(blank=True, choices=[('none', 'none'), ('minimal', 'minimal'), ('low', 'low'), ('medium', 'medium'), ('high', 'high'), ('xhigh', 'xhigh')], help_text="One of the model's reasoning efforts. Empty: the upstream's default.", max_length=10, verbose_name='reasoning effort'),
        ),
        migrations.AlterField(
            model_name='chatmodel',
            name='temperature',
            field=models.FloatField(blank=True, help_text="0 to 2, for a model that takes it. Empty: the upstream's default.", null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(2)], verbose_name='temperature'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
