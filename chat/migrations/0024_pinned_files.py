# Files pinned to assistants and projects: the owner's documents, sent with every chat started from or in them.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0023_imports'),
    ]

    operations = [
        migrations.AddField(
            model_name='assistant',
            name='files',
            field=models.ManyToManyField(blank=True, related_name='pinned_to_assistants', to='chat.attachment', verbose_name='files'),
        ),
        migrations.AddField(
            model_name='project',
            name='files',
            field=models.ManyToManyField(blank=True, related_name='pinned_to_projects', to='chat.attachment', verbose_name='files'),
        ),
    ]
