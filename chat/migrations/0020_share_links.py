# Share links: a conversation's read-only snapshot at /s/<token>/, the site switches for sharing and
# the audit trail's share actions.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import chat.models.sharing


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0019_api_tokens'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ShareLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(default=chat.models.sharing.new_share_token, editable=False, max_length=64, unique=True)),
                ('snapshot', models.JSONField(default=dict, editable=False)),
                ('include_attachments', models.BooleanField(default=False, verbose_name='include attachments')),
                ('created', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created')),
                ('updated', models.DateTimeField(default=django.utils.timezone.now, verbose_name='updated')),
                ('expires', models.DateTimeField(blank=True, null=True, verbose_name='expires')),
                ('revoked', models.DateTimeField(blank=True, null=True, verbose_name='revoked')),
                ('views', models.PositiveIntegerField(default=0, editable=False, verbose_name='views')),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='share_links', to='chat.conversation', verbose_name='conversation')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='share_links', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'share link',
                'verbose_name_plural': 'share links',
                'ordering': ['-updated', '-id'],
                'permissions': [('share_conversation', 'Can share conversations by link')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('revoked__isnull', True)), fields=('conversation',), name='one_live_share_link')],
            },
        ),
        migrations.AddField(
            model_name='sitesettings',
            name='sharing_enabled',
            field=models.BooleanField(default=True, help_text='Off: no one can share a conversation by link and every existing link answers 404.', verbose_name='share links'),
        ),
        migrations.AddField(
            model_name='sitesettings',
            name='everyone_may_share',
            field=models.BooleanField(default=True, help_text='Off: only members whose groups have the "Can share conversations by link" permission may.', verbose_name='everyone may share'),
        ),
        migrations.AddField(
            model_name='sitesettings',
            name='public_share_links',
            field=models.BooleanField(default=False, help_text='On: anyone with a share link can read it without signing in (search engines are told not to index it).', verbose_name='public share links'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('view', 'opened the transcript'), ('search', 'searched'), ('flag', 'flagged'), ('resolve', 'resolved a flag'), ('export', 'exported'), ('purge', 'purged'), ('attachment', 'opened an attachment'), ('groups', 'changed groups from the directory'), ('share', 'shared by link'), ('share_view', 'opened a share link'), ('share_update', 'updated a share link'), ('share_revoke', 'revoked a share link')], max_length=16, verbose_name='action'),
        ),
    ]
