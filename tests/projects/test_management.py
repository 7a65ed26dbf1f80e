"""Managing a project (chat/projects/views.py): its owner's alone; chats moved in and out, and kept when
the project is deleted."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Conversation, Project

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_creates_renames_and_edits_the_instructions_of_a_project(alice):
    client = client_of(alice)
    made = client.post("/p/new/", {"name": "  Q3   report "}, **JSON).json()
    assert made["name"] == "Q3 report" and made["own"]
    answer = client.post(f"/p/{made['id']}/update/", {"name": "Q4", "instructions": "Be brief."}, **JSON)
    assert answer.status_code == 200
    project = Project.objects.get(pk=made["id"])
    assert (project.owner, project.name, project.instructions) == (alice, "Q4", "Be brief.")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "  "}, "needs a name"),
        ({"name": "a\x00b"}, "NUL"),
        ({"name": "x", "instructions": "y" * 32_001}, "at most"),
    ],
)
def test_bad_input_is_a_clear_400(alice, fields, words):
    answer = client_of(alice).post("/p/new/", fields, **JSON)
    assert answer.status_code == 400 and words in answer.json()["error"]


def test_only_the_owner_renames_deletes_or_shares_a_project(project, bob, readers, collaborators, carol):
    for member in (bob, carol):
        client = client_of(member)
        assert client.post(f"/p/{project.pk}/update/", {"name": "Mine"}, **JSON).status_code == 404
        assert client.post(f"/p/{project.pk}/delete/", **JSON).status_code == 404
        assert (
            client.post(f"/p/{project.pk}/share/", {"group": readers.pk, "role": "none"}).status_code == 404
        )
    project.refresh_from_db()
    assert project.name == "Launch" and project.shares.count() == 2


def test_the_owner_shares_with_their_own_groups_only(project, alice, readers, outsiders):
    client = client_of(alice)
    readers.user_set.add(alice)
    answer = client.post(f"/p/{project.pk}/share/", {"group": readers.pk, "role": "collaborator"}, **JSON)
    assert answer.status_code == 200 and project.shares.get().role == "collaborator"
    answer = client.post(f"/p/{project.pk}/share/", {"group": outsiders.pk, "role": "reader"}, **JSON)
    assert answer.status_code == 404
    assert client.post(f"/p/{project.pk}/share/", {"group": readers.pk, "role": "owner"}).status_code == 400
    client.post(f"/p/{project.pk}/share/", {"group": readers.pk, "role": "none"}, **JSON)
    assert not project.shares.exists()


def test_a_chat_moves_into_a_project_and_out_again(alice, project):
    chat = Conversation.objects.create(owner=alice, title="Loose", model="gpt-4.1")
    client = client_of(alice)
    before = Conversation.objects.get(pk=chat.pk).updated
    assert client.post(f"/c/{chat.pk}/project/", {"project": project.pk}).json()["project"] == project.pk
    chat.refresh_from_db()
    assert chat.project == project and chat.updated == before  # filing is not activity
    assert client.post(f"/c/{chat.pk}/project/", {"project": ""}).json()["project"] is None
    chat.refresh_from_db()
    assert chat.project is None


def test_only_the_chats_owner_moves_it_and_only_into_a_project_they_may_write_in(
    alice, bob, project, readers, filed
):
    other = Project.objects.create(owner=bob, name="Bob's")
    # Bob reads alice's project: he can neither move her chat nor file his own chat into it.
    assert client_of(bob).post(f"/c/{filed.pk}/project/", {"project": other.pk}).status_code == 404
    own = Conversation.objects.create(owner=bob, title="His", model="gpt-4.1")
    assert client_of(bob).post(f"/c/{own.pk}/project/", {"project": project.pk}).status_code == 404
    # Nor can alice file hers into bob's project.
    assert client_of(alice).post(f"/c/{filed.pk}/project/", {"project": other.pk}).status_code == 404
    assert client_of(alice).post(f"/c/{filed.pk}/project/", {"project": "x"}).status_code == 400
    filed.refresh_from_db()
    own.refresh_from_db()
    assert filed.project == project and own.project is None


def test_deleting_a_project_keeps_its_chats(alice, project, filed):
    answer = client_of(alice).post(f"/p/{project.pk}/delete/", **JSON)
    assert answer.json() == {"deleted": project.pk}
    filed.refresh_from_db()
    assert filed.project is None and not Project.objects.exists()


def test_the_sidebar_lists_projects_above_the_chats_with_their_chats(alice, project, filed):
    page = client_of(alice).get("/").content.decode()
    assert page.index('id="projects"') < page.index('id="conversation-list"')
    assert f'data-project-chat="{filed.pk}"' in page
    listed = client_of(alice).get("/p/list.json").json()["projects"]
    assert listed == [
        {
            "id": project.pk,
            "name": "Launch",
            "own": True,
            "has_instructions": True,
            "writable": True,
            "chats": [{"id": filed.pk, "title": "Plan"}],
        }
    ]


def test_the_owners_project_page_edits_the_instructions_with_a_plain_form(alice, project, readers):
    readers.user_set.add(alice)
    client = client_of(alice)
    html = client.get(f"/p/{project.pk}/").content.decode()
    assert 'id="project-instructions"' in html and "readers" in html
    answer = client.post(f"/p/{project.pk}/update/", {"name": "Launch", "instructions": "Say when."})
    assert answer.status_code == 302 and answer["Location"] == f"/p/{project.pk}/"
    project.refresh_from_db()
    assert project.instructions == "Say when."
    assert client.post(f"/p/{project.pk}/delete/")["Location"] == "/"
