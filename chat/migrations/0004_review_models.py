"""Review: the permission, the activity index, flags, the audit trail and the notice."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0003_review_feedback'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('actor_name', models.CharField(max_length=150, verbose_name='who')),
                ('action', models.CharField(choices=[('view', 'opened the transcript'), ('search', 'searched'), ('flag', 'flagged'), ('resolve', 'resolved a flag'), ('export', 'exported'), ('purge', 'purged')], max_length=16)),
                ('conversation_ref', models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name='conversation')),
                ('conversation_title', models.CharField(blank=True, max_length=200, verbose_name='title then')),
                ('owner_name', models.CharField(blank=True, max_length=150, verbose_name='owner')),
                ('detail', models.CharField(blank=True, max_length=500)),
            ],
            options={
                'verbose_name': 'audit entry',
                'verbose_name_plural': 'audit trail',
                'ordering': ['-created', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Flag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('note', models.TextField(max_length=1000)),
                ('created', models.DateTimeField(default=django.utils.timezone.now)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ReviewNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.CharField(default='Conversations on this site may be read by authorised reviewers for quality and policy; every reading is recorded.', help_text='Shown on every chat page while review is on (TOKENOFF_REVIEW). Plain text, short.', max_length=300)),
                ('updated', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'review notice',
                'verbose_name_plural': 'review notice',
            },
        ),
        migrations.AlterModelOptions(
            name='conversation',
            options={'ordering': ['-updated', '-id'], 'permissions': [('review_conversation', "Can review every user's conversations")]},
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['-updated', '-id'], name='conversation_activity'),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='actor',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='flag',
            name='conversation',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='flags', to='chat.conversation'),
        ),
        migrations.AddField(
            model_name='flag',
            name='created_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='flag',
            name='resolved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='flag',
            index=models.Index(condition=models.Q(('resolved_at__isnull', True)), fields=['conversation'], name='open_flags'),
        ),
    ]
