# The stamp that a send's cached facts are checked against (chat/models/freshness.py), and its one row.

from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("chat", "CacheVersion").objects.using(schema_editor.connection.alias).create(pk=1, stamp=0)


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0024_pinned_files'),
    ]

    operations = [
        migrations.CreateModel(
            name='CacheVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stamp', models.BigIntegerField(default=0, verbose_name='stamp')),
            ],
            options={
                'verbose_name': 'cache version',
                'verbose_name_plural': 'cache version',
            },
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
