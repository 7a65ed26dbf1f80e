"""A project of alice's shared with a group: bob reads it, carol collaborates, dave is outside."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from chat.models import Conversation, Project, ProjectShare


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-password-1")


@pytest.fixture
def dave(django_user_model):
    return django_user_model.objects.create_user("dave", password="dave-password-1")


@pytest.fixture
def project(alice):
    return Project.objects.create(owner=alice, name="Launch", instructions="Answer as the launch team.")


@pytest.fixture
def readers(bob, project):
    group = Group.objects.create(name="readers")
    group.user_set.add(bob)
    ProjectShare.objects.create(project=project, group=group, role=ProjectShare.Role.READER)
    return group


@pytest.fixture
def collaborators(carol, project):
    group = Group.objects.create(name="collaborators")
    group.user_set.add(carol)
    ProjectShare.objects.create(project=project, group=group, role=ProjectShare.Role.COLLABORATOR)
    return group


@pytest.fixture
def outsiders(dave):
    group = Group.objects.create(name="outsiders")
    group.user_set.add(dave)
    return group


@pytest.fixture
def filed(alice, project):
    """Alice's chat in the project."""
    return Conversation.objects.create(owner=alice, title="Plan", model="gpt-4.1", project=project)
