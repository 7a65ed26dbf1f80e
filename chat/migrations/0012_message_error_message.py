from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0011_budget_reservations"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="error_message",
            field=models.CharField(blank=True, max_length=300),
        ),
    ]
