"""Per-conversation parameters (what the member chose), what each reply was sent with, and the upstream's
cached input and reasoning token counts per reply (issue 16, items 2 and 5). New fields: nothing to fill."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0015_model_capabilities"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="parameters",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="What the member chose for this conversation: temperature, reasoning_effort, max_tokens",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="parameters",
            field=models.JSONField(
                blank=True, null=True, help_text="What the reply was sent with, after the model's table"
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="cached_tokens",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="reasoning_tokens",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
