# Assistants: personal or shared starts for a chat, versioned; a conversation says which one it used.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('chat', '0020_share_links'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Assistant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('icon', models.CharField(blank=True, help_text='An emoji or a short glyph.', max_length=8, verbose_name='icon')),
                ('model', models.CharField(max_length=100, verbose_name='model')),
                ('system_prompt', models.TextField(blank=True, verbose_name='system prompt')),
                ('parameters', models.JSONField(blank=True, default=dict, verbose_name='parameters')),
                ('visibility', models.CharField(choices=[('personal', 'only me'), ('groups', 'my groups'), ('team', 'the whole team')], default='personal', max_length=8, verbose_name='shared with')),
                ('version', models.PositiveIntegerField(default=0, verbose_name='version')),
                ('retired', models.BooleanField(default=False, verbose_name='retired')),
                ('moved_from', models.CharField(blank=True, max_length=100, verbose_name='moved from model')),
                ('created', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('updated', models.DateTimeField(default=django.utils.timezone.now, verbose_name='updated')),
                ('groups', models.ManyToManyField(blank=True, related_name='assistants', to='auth.group', verbose_name='groups')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='assistants', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'assistant',
                'verbose_name_plural': 'assistants',
                'ordering': ['name', 'id'],
                'permissions': [('use_assistant', 'Can start chats from assistants shared with them'), ('publish_assistant', 'Can share assistants with groups or the team')],
            },
        ),
        migrations.CreateModel(
            name='AssistantVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(verbose_name='version')),
                ('snapshot', models.JSONField(default=dict, verbose_name='snapshot')),
                ('created', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('assistant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='chat.assistant')),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'assistant version',
                'verbose_name_plural': 'assistant versions',
                'ordering': ['-number'],
                'constraints': [models.UniqueConstraint(fields=('assistant', 'number'), name='assistant_version_number')],
            },
        ),
        migrations.AddField(
            model_name='conversation',
            name='assistant',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='conversations', to='chat.assistant'),
        ),
        migrations.AddField(
            model_name='conversation',
            name='assistant_name',
            field=models.CharField(blank=True, max_length=100),
        ),
    ]
