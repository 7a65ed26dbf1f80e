from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("chat", "0009_message_branches_sidebar")]

    operations = []
