"""Summaries of a branch's earlier messages, sent upstream in their place (issue 16, item 4). A new table."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0016_parameters_and_usage_details"),
    ]

    operations = [
        migrations.CreateModel(
            name="Summary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("content", models.TextField()),
                ("covered", models.PositiveIntegerField(help_text="How many messages it stands in for")),
                ("model", models.CharField(blank=True, max_length=100, verbose_name="written by")),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="summaries",
                        to="chat.conversation",
                    ),
                ),
                (
                    "until",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="chat.message"
                    ),
                ),
            ],
            options={"verbose_name": "summary", "verbose_name_plural": "summaries", "ordering": ["id"]},
        ),
    ]
