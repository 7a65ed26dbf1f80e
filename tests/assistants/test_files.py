"""Files pinned to an assistant: its owner's documents reach the upstream in the system message of every
chat started from it, for the owner and for a member using it shared; nobody pins another's upload; the
orphan sweep keeps them, and deleting the assistant deletes those nothing else uses."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chat.attachments.cleanup import sweep_orphans
from chat.models import Assistant, Attachment, Conversation
from tests.assistants.conftest import grant, make
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


def pinned(user, assistant: Assistant, fixture=fixtures.markdown_notes) -> str:
    """Upload a file as the member and pin it to the assistant through the views; its id."""
    client = browser(user)
    attachment = upload(client, fixture).json()["id"]
    response = client.post(f"/assistants/{assistant.pk}/files/", {"attachment": attachment})
    assert response.status_code == 200, response.content
    assert attachment in [f["id"] for f in response.json()["files"]]
    return attachment


async def started(user, assistant: Assistant) -> dict:
    socket = await connected(user)
    try:
        await socket.send_json_to({**send_frame("Hello"), "assistant": assistant.pk})
        return (await frames_until(socket, "done"))[0]
    finally:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_pinned_documents_reach_the_upstream_on_every_send_for_the_owner(alice, team_key, fake):
    assistant = await sync_to_async(make)(alice, system_prompt="Be brief.")
    await sync_to_async(pinned)(alice, assistant)
    await started(alice, assistant)
    system = chat_requests(fake)[-1].body["messages"][0]
    assert system == {"role": "system", "content": f'Be brief.\n\nAttached file "notes.md":\n\n{NOTES}'}
    # The current files on each send: one unpinned is no longer sent.
    await sync_to_async(Assistant.files.through.objects.all().delete)()
    conversation = await sync_to_async(Conversation.objects.get)()
    socket = await connected(alice)
    await socket.send_json_to(send_frame("More", conversation=conversation.pk, client_id="c2"))
    await frames_until(socket, "done")
    await socket.disconnect()
    assert chat_requests(fake)[-1].body["messages"][0]["content"] == "Be brief."


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_member_using_a_shared_assistant_gets_its_documents_sent_but_never_the_file(
    alice, bob, team_key, fake
):
    await sync_to_async(grant)(alice, "publish_assistant")
    await sync_to_async(grant)(bob, "use_assistant")
    assistant = await sync_to_async(make)(alice, system_prompt="Shared.", visibility="team")
    attachment = await sync_to_async(pinned)(alice, assistant)
    await started(bob, assistant)
    assert 'Attached file "notes.md"' in chat_requests(fake)[-1].body["messages"][0]["content"]
    bobs = await sync_to_async(browser)(bob)
    assert (await sync_to_async(bobs.get)(f"/api/attachments/{attachment}/")).status_code == 404
    assert (await sync_to_async(bobs.get)(f"/assistants/{assistant.pk}/files/")).status_code == 404


@pytest.mark.django_db
def test_nobody_pins_another_members_upload_or_to_another_members_assistant(alice, bob):
    alices = make(alice)
    bobs = make(bob)
    attachment = upload(browser(alice), fixtures.markdown_notes).json()["id"]
    as_bob = browser(bob)
    refused = as_bob.post(f"/assistants/{bobs.pk}/files/", {"attachment": attachment})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    own = upload(as_bob, fixtures.csv_table).json()["id"]
    assert as_bob.post(f"/assistants/{alices.pk}/files/", {"attachment": own}).status_code == 404
    assert as_bob.post(f"/assistants/{bobs.pk}/files/", {"attachment": "../x"}).status_code == 404
    assert not Assistant.files.through.objects.exists()


@pytest.mark.django_db
def test_images_and_too_many_files_are_refused(alice):
    assistant = make(alice)
    client = browser(alice)
    image = upload(client, fixtures.png_screenshot).json()["id"]
    refused = client.post(f"/assistants/{assistant.pk}/files/", {"attachment": image})
    assert (refused.status_code, refused.json()["error"]["code"]) == (415, "unsupported_type")
    for _ in range(10):
        pinned_id = upload(client, fixtures.csv_table).json()["id"]
        assert client.post(f"/assistants/{assistant.pk}/files/", {"attachment": pinned_id}).status_code == 200
    eleventh = upload(client, fixtures.csv_table).json()["id"]
    refused = client.post(f"/assistants/{assistant.pk}/files/", {"attachment": eleventh})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "too_many")


@pytest.mark.django_db
def test_the_orphan_sweep_keeps_pinned_files(alice):
    attachment = pinned(alice, make(alice))
    stray = upload(browser(alice), fixtures.csv_table).json()["id"]
    assert sweep_orphans(timezone.now() + dt.timedelta(days=30)) == 1
    assert list(Attachment.objects.values_list("pk", flat=True)) == [attachment]
    assert stray != attachment


@pytest.mark.django_db
def test_deleting_the_assistant_deletes_the_files_nothing_else_uses(
    alice, media, django_capture_on_commit_callbacks
):
    first, second = make(alice, name="First"), make(alice, name="Second")
    shared = pinned(alice, first)
    second.files.add(shared)
    pinned(alice, first, fixtures.csv_table)
    client = browser(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/assistants/{first.pk}/delete/").status_code in (200, 302)
    assert list(Attachment.objects.values_list("pk", flat=True)) == [shared]
    assert len(stored_files(media)) == 2  # the notes and their text; the CSV's files are gone
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/assistants/{second.pk}/files/{shared}/")
    assert response.json() == {"files": []}
    assert not Attachment.objects.exists() and stored_files(media) == []


@pytest.mark.django_db
def test_the_edit_page_has_the_file_picker_and_a_new_assistant_not_yet(alice):
    client = browser(alice)
    edit = client.get(f"/assistants/{make(alice).pk}/edit/").content.decode()
    assert "data-pinned-files" in edit and "chat/pinned-files.js" in edit
    assert "data-pinned-files" not in client.get("/assistants/new/").content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_pinned_file_is_not_sent_as_a_messages_attachment(alice, team_key, fake):
    # Bound to a chat, it would go with the chat's deletion and leave the assistant without it.
    attachment = await sync_to_async(pinned)(alice, await sync_to_async(make)(alice))
    socket = await connected(alice)
    await socket.send_json_to({**send_frame("Read this"), "attachments": [attachment]})
    error = await socket.receive_json_from()
    await socket.disconnect()
    assert (error["code"], error["message"]) == ("not_found", "No such attachment.")
    assert chat_requests(fake) == []
