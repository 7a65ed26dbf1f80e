"""The owner's delete of a flagged conversation hides it from them; review keeps it until resolved."""

from __future__ import annotations

import pytest

from chat.models import Conversation, Message
from chat.models.audit import AuditEntry
from chat.models.feedback import Feedback
from chat.models.flags import Flag
from chat.review import retention
from tests.review import data as review_data
from tests.ws import connected

# Both passes: raising, resolving and deleting queue on a row lock (SELECT ... FOR UPDATE OF) on PostgreSQL.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def talk(alice):
    return review_data.conversation(alice, "Refund promises", answer="You get a refund.")


@pytest.fixture
def flagged(talk, reviewer):
    Flag.raise_on(talk, reviewer, "Promised a refund")
    return talk


def owner_deletes(client, user, conversation) -> None:
    client.force_login(user)
    assert client.post(f"/c/{conversation.pk}/delete/").json() == {"deleted": conversation.pk}


def owner_urls(pk: int, reply: int) -> list[tuple[str, str, dict]]:
    return [
        ("get", f"/c/{pk}/", {}),
        ("get", f"/c/{pk}/export.json", {}),
        ("get", f"/c/{pk}/export.md", {}),
        ("get", f"/c/{pk}/thread.json", {}),
        ("post", f"/c/{pk}/update/", {"title": "Mine again"}),
        ("post", f"/c/{pk}/delete/", {}),
        ("post", f"/c/{pk}/branch/", {"message": str(reply)}),
        ("post", f"/c/{pk}/settings/", {"system_prompt": "x"}),
        ("post", f"/m/{reply}/feedback/", {"rating": "1"}),
        ("post", f"/m/{reply}/feedback/", {"rating": "0"}),
    ]


def test_a_flagged_conversation_deleted_by_its_owner_is_gone_for_the_owner(client, alice, flagged):
    owner_deletes(client, alice, flagged)
    reply = flagged.messages.get(role="assistant").pk
    for method, url, data in owner_urls(flagged.pk, reply):
        assert getattr(client, method)(url, data).status_code == 404, url
    assert client.get("/c/list.json").json()["conversations"] == []
    assert client.get("/c/list.json?archived=1").json()["conversations"] == []
    assert client.get("/c/search.json?q=refund").json()["conversations"] == []
    assert "Refund promises" not in client.get("/").content.decode()
    assert not Conversation.objects.owned_by(alice).exists()
    with pytest.raises(Message.DoesNotExist):
        Feedback.give(alice, reply, 1)
    kept = Conversation.objects.get(pk=flagged.pk)
    assert kept.owner_deleted is not None and kept.title == "Refund promises"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_the_owners_socket_cannot_reach_it_either(alice, reviewer):
    from asgiref.sync import sync_to_async

    @sync_to_async
    def hidden() -> Conversation:
        conversation = review_data.conversation(alice, "Refund promises")
        Flag.raise_on(conversation, reviewer, "Promised a refund")
        Conversation.objects.filter(pk=conversation.pk).update(owner_deleted=conversation.created)
        return conversation

    conversation = await hidden()
    socket = await connected(alice)
    for frame in (
        {"type": "attach", "conversation": conversation.pk},
        {"type": "send", "id": "c1", "conversation": conversation.pk, "content": "still there?"},
    ):
        await socket.send_json_to(frame)
        answer = await socket.receive_json_from()
        assert answer["type"] == "error" and answer["code"] == "not_found", frame
    await socket.disconnect()


def test_reviewers_still_read_it_marked_deleted_by_its_owner(client, alice, reviewer, flagged):
    owner_deletes(client, alice, flagged)
    client.force_login(reviewer)
    transcript = client.get(f"/review/{flagged.pk}/").content.decode()
    assert "You get a refund." in transcript and "data-owner-deleted" in transcript
    assert "deleted by its owner" in transcript
    listed = client.get("/review/?q=refund").content.decode()
    assert f'data-conversation="{flagged.pk}"' in listed and 'data-badge="owner-deleted"' in listed
    assert 'data-badge="owner-deleted"' in client.get("/review/flags/").content.decode()


def test_resolving_the_last_open_flag_deletes_it_and_the_trail_says_so(client, alice, reviewer, flagged):
    Flag.raise_on(flagged, reviewer, "And a discount")
    owner_deletes(client, alice, flagged)
    client.force_login(reviewer)
    first, second = Flag.objects.filter(conversation=flagged).order_by("id")
    page = f"/review/{flagged.pk}/"
    client.post(f"/review/flags/{first.pk}/resolve/", {"next": page})
    assert Conversation.objects.filter(pk=flagged.pk).exists()  # the other flag still holds it
    response = client.post(f"/review/flags/{second.pk}/resolve/", {"next": page})
    assert response.status_code == 302 and response["Location"] == "/review/flags/"  # not the gone page
    assert not Conversation.objects.filter(pk=flagged.pk).exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "conversation_ref"))
    assert actions[-3:] == [("resolve", flagged.pk), ("resolve", flagged.pk), ("purge", flagged.pk)]
    purge = AuditEntry.objects.get(action="purge")
    assert purge.actor == reviewer and purge.conversation_title == "Refund promises"
    assert purge.owner_name == "alice" and "deleted by its owner" in purge.detail
    assert "now deleted" in client.get("/review/flags/").content.decode()


def test_resolving_a_flag_of_a_conversation_its_owner_kept_deletes_nothing(client, reviewer, flagged):
    client.force_login(reviewer)
    client.post(f"/review/flags/{flagged.flags.get().pk}/resolve/")
    assert Conversation.objects.filter(pk=flagged.pk, owner_deleted__isnull=True).exists()
    assert not AuditEntry.objects.filter(action="purge").exists()


def test_without_an_open_flag_the_owners_delete_is_for_good(client, alice, reviewer, talk):
    resolved = Flag.raise_on(talk, reviewer, "Fine after all")
    resolved.resolve(reviewer)
    owner_deletes(client, alice, talk)
    assert not Conversation.objects.filter(pk=talk.pk).exists()


def test_retention_keeps_it_while_flagged(client, alice, flagged):
    owner_deletes(client, alice, flagged)
    cutoff = retention.cutoff_for(-1)  # tomorrow: everything is idle
    assert retention.purge(cutoff, days=0) == 0
    assert Conversation.objects.filter(pk=flagged.pk).exists()
