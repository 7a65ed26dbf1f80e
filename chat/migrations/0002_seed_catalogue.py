"""Seeds the catalogue with every model the TokenOff documentation lists, enabled; gpt-4.1 by default."""

from django.db import migrations

# (name, label) in the order of the documentation's list of supported models.
MODELS = [
    ("gpt-5.4", "GPT-5.4"),
    ("gpt-5.4-mini", "GPT-5.4 mini"),
    ("gpt-5.4-nano", "GPT-5.4 nano"),
    ("gpt-5.2", "GPT-5.2"),
    ("gpt-5.1", "GPT-5.1"),
    ("gpt-5", "GPT-5"),
    ("gpt-5-mini", "GPT-5 mini"),
    ("gpt-5-nano", "GPT-5 nano"),
    ("gpt-4.1", "GPT-4.1"),
    ("gpt-4.1-mini", "GPT-4.1 mini"),
    ("gpt-4.1-nano", "GPT-4.1 nano"),
    ("gpt-4o", "GPT-4o"),
    ("gpt-4o-mini", "GPT-4o mini"),
    ("o4-mini", "o4-mini"),
    ("o3", "o3"),
    ("o3-mini", "o3-mini"),
    ("o3-pro", "o3-pro"),
    ("gpt-5.3-codex", "GPT-5.3-Codex"),
    ("gpt-5.3-codex-spark", "GPT-5.3-Codex-Spark"),
    ("gpt-5.2-codex", "GPT-5.2-Codex"),
    ("gpt-5.1-codex-max", "GPT-5.1-Codex-Max"),
    ("gpt-5.1-codex", "GPT-5.1-Codex"),
    ("gpt-5-codex", "GPT-5-Codex"),
    ("gpt-5.1-codex-mini", "GPT-5.1-Codex-Mini"),
]
DEFAULT = "gpt-4.1"


def is_reasoning(name: str) -> bool:
    # The o-series and the whole GPT-5 family reason: they take max_completion_tokens, not temperature.
    return name.startswith(("o1", "o3", "o4", "gpt-5"))


def seed(apps, schema_editor):
    ChatModel = apps.get_model("chat", "ChatModel")
    for order, (name, label) in enumerate(MODELS):
        ChatModel.objects.update_or_create(
            name=name,
            defaults={
                "label": label,
                "enabled": True,
                "is_default": name == DEFAULT,
                "is_reasoning": is_reasoning(name),
                "sort_order": order,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("chat", "ChatModel").objects.filter(name__in=[name for name, _ in MODELS]).delete()


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
