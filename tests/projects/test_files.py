"""Files pinned to a project: its owner's documents reach the upstream after the project's instructions on
every send, for the owner and for a collaborator, who never gets the file itself; nobody else pins; the
orphan sweep keeps them, and deleting the project deletes those nothing else uses."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chat.attachments.cleanup import sweep_orphans
from chat.models import ApiKey, Assistant, Attachment, Project
from tests.attachments import fixtures
from tests.attachments.conftest import stored_files, upload
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

NOTES = "# Notes\n\n- first\n- second\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pinned(user, project: Project, fixture=fixtures.markdown_notes) -> str:
    """Upload a file as the member and pin it to the project through the views; its id."""
    client = browser(user)
    attachment = upload(client, fixture).json()["id"]
    response = client.post(f"/p/{project.pk}/files/", {"attachment": attachment})
    assert response.status_code == 200, response.content
    assert attachment in [f["id"] for f in response.json()["files"]]
    return attachment


async def sent(user, frame: dict) -> None:
    socket = await connected(user)
    try:
        await socket.send_json_to(frame)
        await frames_until(socket, "done")
    finally:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_pinned_documents_follow_the_instructions_for_the_owner_and_a_collaborator(
    alice, carol, collaborators, team_key, fake, project, filed
):
    attachment = await sync_to_async(pinned)(alice, project)
    await sent(alice, {**send_frame("Hello"), "system_prompt": "Use metric units.", "project": project.pk})
    expected = f'Answer as the launch team.\n\nAttached file "notes.md":\n\n{NOTES}\n\nUse metric units.'
    assert chat_requests(fake)[-1].body["messages"][0] == {"role": "system", "content": expected}

    await sync_to_async(ApiKey.store)("sk-carol-0123456789abcdefCAROL", user=carol)
    await sent(carol, send_frame("Next step?", conversation=filed.pk))
    system = chat_requests(fake)[-1].body["messages"][0]["content"]
    assert system == f'Answer as the launch team.\n\nAttached file "notes.md":\n\n{NOTES}'
    carols = await sync_to_async(browser)(carol)
    assert (await sync_to_async(carols.get)(f"/api/attachments/{attachment}/")).status_code == 404
    assert (await sync_to_async(carols.get)(f"/p/{project.pk}/files/")).status_code == 404
    owners = await sync_to_async(browser)(alice)
    assert (await sync_to_async(owners.get)(f"/api/attachments/{attachment}/")).status_code == 200


@pytest.mark.django_db
def test_a_collaborator_cannot_pin_to_the_project_nor_anyone_anothers_upload(
    alice, carol, collaborators, project
):
    as_carol = browser(carol)
    own = upload(as_carol, fixtures.csv_table).json()["id"]
    refused = as_carol.post(f"/p/{project.pk}/files/", {"attachment": own})
    assert refused.status_code == 404
    alices = upload(browser(alice), fixtures.csv_table).json()["id"]
    carols_project = Project.objects.create(owner=carol, name="Mine")
    refused = as_carol.post(f"/p/{carols_project.pk}/files/", {"attachment": alices})
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    assert not Project.files.through.objects.exists()


@pytest.mark.django_db
def test_the_orphan_sweep_keeps_pinned_files(alice, project):
    attachment = pinned(alice, project)
    upload(browser(alice), fixtures.csv_table)
    assert sweep_orphans(timezone.now() + dt.timedelta(days=30)) == 1
    assert list(Attachment.objects.values_list("pk", flat=True)) == [attachment]


@pytest.mark.django_db
def test_deleting_the_project_deletes_the_files_nothing_else_uses(
    alice, project, media, django_capture_on_commit_callbacks
):
    shared = pinned(alice, project)
    assistant = Assistant.objects.create(owner=alice, name="Helper", model="gpt-4.1")
    assistant.files.add(shared)
    pinned(alice, project, fixtures.csv_table)
    with django_capture_on_commit_callbacks(execute=True):
        assert browser(alice).post(f"/p/{project.pk}/delete/").status_code in (200, 302)
    assert not Project.objects.exists()
    assert list(Attachment.objects.values_list("pk", flat=True)) == [shared]
    assert len(stored_files(media)) == 2  # the notes and their text; the CSV's files are gone


@pytest.mark.django_db
def test_only_the_owner_sees_the_file_picker(alice, carol, collaborators, project):
    assert "data-pinned-files" in browser(alice).get(f"/p/{project.pk}/").content.decode()
    page = browser(carol).get(f"/p/{project.pk}/")
    assert page.status_code == 200 and "data-pinned-files" not in page.content.decode()
