from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0009_message_branches_sidebar")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="owner_deleted",
            field=models.DateTimeField(
                blank=True,
                help_text="Deleted by its owner while flagged: kept for review until resolved",
                null=True,
            ),
        ),
    ]
