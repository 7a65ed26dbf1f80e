"""Members with and without the assistants' permissions, and groups to share with."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from chat.models import Assistant


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="chat", codename__in=codenames)
    )


@pytest.fixture
def writers(db, alice, bob):
    """alice and bob in the group "writers"; carol outside it."""
    group = Group.objects.create(name="writers")
    alice.groups.add(group)
    bob.groups.add(group)
    return group


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-password-1")


def make(owner, **fields) -> Assistant:
    """An assistant saved as its first version."""
    groups = fields.pop("groups", None)
    assistant = Assistant(
        owner=owner, name=fields.pop("name", "Editor"), model=fields.pop("model", "gpt-4.1")
    )
    for name, value in fields.items():
        setattr(assistant, name, value)
    assistant.save_version(owner, groups=groups)
    return assistant
