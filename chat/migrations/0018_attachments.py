# Attachments (chat/attachments/), and two audit actions: an attachment opened, groups changed by SSO.

import chat.models.attachments
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0017_summaries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('view', 'opened the transcript'), ('search', 'searched'), ('flag', 'flagged'), ('resolve', 'resolved a flag'), ('export', 'exported'), ('purge', 'purged'), ('attachment', 'opened an attachment'), ('groups', 'changed groups from the directory')], max_length=16, verbose_name='action'),
        ),
        migrations.CreateModel(
            name='Attachment',
            fields=[
                ('id', models.CharField(default=chat.models.attachments.new_attachment_id, editable=False, max_length=32, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=255, verbose_name='name')),
                ('kind', models.CharField(choices=[('image', 'image'), ('document', 'document')], max_length=16, verbose_name='kind')),
                ('content_type', models.CharField(max_length=100, verbose_name='type')),
                ('size', models.PositiveBigIntegerField(help_text='Bytes stored (the file, and its text)', verbose_name='size')),
                ('uploaded_size', models.PositiveBigIntegerField(default=0, help_text='Bytes as uploaded')),
                ('file', models.FileField(max_length=300, upload_to=chat.models.attachments.stored_path)),
                ('thumbnail', models.FileField(blank=True, max_length=300, upload_to=chat.models.attachments.stored_path)),
                ('text', models.FileField(blank=True, max_length=300, upload_to=chat.models.attachments.stored_path)),
                ('width', models.PositiveIntegerField(blank=True, null=True)),
                ('height', models.PositiveIntegerField(blank=True, null=True)),
                ('pages', models.PositiveIntegerField(blank=True, help_text='Pages or sheets of a document', null=True)),
                ('tokens', models.PositiveIntegerField(default=0, help_text='What it adds to a request, estimated')),
                ('created', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('conversation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='chat.conversation')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'attachment',
                'verbose_name_plural': 'attachments',
                'ordering': ['created', 'id'],
            },
        ),
        migrations.CreateModel(
            name='MessageAttachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('excerpt', models.CharField(blank=True, max_length=100)),
                ('attachment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='message_links', to='chat.attachment')),
                ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachment_links', to='chat.message')),
            ],
            options={
                'ordering': ['message', 'position'],
                'constraints': [models.UniqueConstraint(fields=('message', 'attachment'), name='attachment_once_per_message')],
            },
        ),
    ]
