# Imports of ChatGPT exports and our own export.json; a conversation says where it was imported from.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0022_projects'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='imported_from',
            field=models.CharField(blank=True, default='', help_text='Where it was imported from, e.g. chatgpt:<id>', max_length=120),
        ),
        migrations.AddConstraint(
            model_name='conversation',
            constraint=models.UniqueConstraint(condition=models.Q(('imported_from', ''), _negated=True), fields=('owner', 'imported_from'), name='one_import_per_source'),
        ),
        migrations.CreateModel(
            name='ImportJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('chatgpt', 'ChatGPT'), ('tokenoff', 'TokenOff Chat')], max_length=16)),
                ('state', models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('done', 'done'), ('failed', 'failed')], default='queued', max_length=16)),
                ('total', models.PositiveIntegerField(default=0, help_text='Conversations read so far')),
                ('imported', models.PositiveIntegerField(default=0)),
                ('skipped', models.PositiveIntegerField(default=0)),
                ('progress', models.PositiveSmallIntegerField(default=0)),
                ('report', models.JSONField(blank=True, default=list)),
                ('upload', models.FileField(blank=True, upload_to='imports/')),
                ('created', models.DateTimeField(default=django.utils.timezone.now)),
                ('heartbeat', models.DateTimeField(blank=True, null=True)),
                ('finished', models.DateTimeField(blank=True, null=True)),
                ('error', models.CharField(blank=True, max_length=300)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='import_jobs', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'import',
                'verbose_name_plural': 'imports',
                'ordering': ['-created', '-id'],
            },
        ),
    ]
