"""The review permission and the "Reviewers" group holding it; admins add people to the group."""

from django.db import migrations

CODENAME = "review_conversation"
NAME = "Can review every user's conversations"
GROUP = "Reviewers"


def create(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # On a fresh database the content type and the Meta permission only appear after migrate
    # (post_migrate): make them now, the same rows Django would make, so the group can hold it.
    content_type, _ = ContentType.objects.get_or_create(app_label="chat", model="conversation")
    permission, _ = Permission.objects.get_or_create(
        codename=CODENAME, content_type=content_type, defaults={"name": NAME}
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()
    apps.get_model("auth", "Permission").objects.filter(
        codename=CODENAME, content_type__app_label="chat"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_review_models"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create, remove)]
