"""A send's upstream request goes out while its rows are written (store.begin's `early`): the request is
the one the saved rows give, and a write that fails after it closes the request and answers the frame."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.models import Budget, ChatModel, Conversation, Message, Preferences, Project
from chat.models.conversations import Summary
from chat.realtime import runtime as runtime_module
from chat.realtime import sends, store
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

# transaction: the early request runs on the event loop while begin writes; the catalogue seeded by
# the migrations kept from test to test.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


class Hook:
    """An early hook that notes the request, and what the database held when it came."""

    def __init__(self) -> None:
        self.request: sends.Early | None = None
        self.messages_then: int | None = None

    def __call__(self, request: sends.Early) -> None:
        self.request = request
        self.messages_then = Message.objects.count()


def began(user, content: str, conversation: int | None = None, **extensions):
    hook = Hook()
    begun = store._begin(user, conversation, None, content, "w", early=hook, **extensions)
    return hook, begun


def as_saved(begun: store.Begun) -> list[dict]:
    """The request as the saved rows give it (what begin sent before it went out early)."""
    conversation = Conversation.objects.get(pk=begun.conversation.pk)
    limits = (begun.chat_model.context_window, begun.chat_model.max_output_tokens)
    return conversation.upstream_messages(limits, fresh=begun.new_conversation, attached=False)


def test_a_new_conversations_request_goes_out_before_any_row_and_is_the_saved_ones(alice, team_key):
    Preferences.objects.update_or_create(user=alice, defaults={"system_prompt": "Be brief."})
    before = Message.objects.count()
    hook, begun = began(alice, "Hello there")
    assert hook.request is not None and hook.messages_then == before  # nothing written yet
    assert Message.objects.count() == before + 2
    assert hook.request.upstream_messages == begun.upstream_messages == as_saved(begun)
    assert begun.upstream_messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello there"},
    ]
    assert hook.request.chat_model is begun.chat_model and hook.request.key.pk == team_key.pk


def conversation_of(user, turns: int, **fields) -> Conversation:
    model = ChatModel.for_send(user, None).name
    conversation = Conversation.objects.create(owner=user, title="t", model=model, **fields)
    parent = None
    for n in range(turns):
        question = Message.objects.create(
            conversation=conversation, parent=parent, role="user", content=f"question {n}"
        )
        parent = Message.objects.create(
            conversation=conversation, parent=question, role="assistant", content=f"answer {n}"
        )
    return conversation


def test_a_continued_conversation_with_a_summary_and_a_project_sends_what_the_rows_give(alice, team_key):
    project = Project.objects.create(owner=alice, name="P", instructions="Answer in French.")
    conversation = conversation_of(alice, 4, project=project, system_prompt="Own prompt.")
    until = conversation.messages.filter(role="assistant").order_by("id")[2]
    Summary.objects.create(conversation=conversation, until=until, content="They spoke of bread.", covered=4)
    hook, begun = began(alice, "And now?", conversation.pk)
    assert hook.request is not None
    assert hook.request.upstream_messages == as_saved(begun)
    sent = begun.upstream_messages
    assert sent[0]["content"].startswith("Answer in French.") and "Own prompt." in sent[0]["content"]
    assert any("They spoke of bread." in str(message["content"]) for message in sent)
    assert sent[-1] == {"role": "user", "content": "And now?"}


def test_an_edit_sends_the_branch_it_makes_not_the_one_on_show(alice, team_key):
    conversation = conversation_of(alice, 3)
    second = conversation.messages.filter(role="user").order_by("id")[1]
    hook, begun = began(alice, "question 1, better", conversation.pk, fork=store.Fork(edit=second.pk))
    assert hook.request.upstream_messages == as_saved(begun)
    assert [m["content"] for m in begun.upstream_messages] == ["question 0", "answer 0", "question 1, better"]
    Message.objects.filter(pk=begun.reply.pk).update(status=Message.Status.DONE)
    first = conversation.messages.filter(role="user").order_by("id")[0]
    hook, begun = began(alice, "a new start", conversation.pk, fork=store.Fork(edit=first.pk))
    assert hook.request.upstream_messages == as_saved(begun) == [{"role": "user", "content": "a new start"}]


def test_no_early_request_where_the_writes_decide_it(alice, team_key):
    conversation = conversation_of(alice, 1)
    answer = conversation.messages.get(role="assistant")
    hook, begun = began(alice, "", conversation.pk, fork=store.Fork(regenerate=answer.pk))
    assert hook.request is None  # a regeneration: the question is the saved one's
    Message.objects.filter(pk=begun.reply.pk).update(status=Message.Status.DONE)
    # A budget with a limit: the reservation may refuse the send, or cap what the request may write.
    Budget.objects.create(user=alice, monthly_cost=Decimal("5.00"))
    hook, begun = began(alice, "within budget", conversation.pk)
    assert hook.request is None and begun.held


async def test_a_write_that_fails_after_the_request_went_out_closes_it_and_answers_busy(
    alice, team_key, fake, monkeypatch
):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=2] first"))
    conversation = (await frames_until(socket, "done"))[0]["conversation"]
    # A reply of this very process's runtime in the way (not one it runs: the database's partial unique
    # index refuses the send's reply row, after the request has gone out; recovery spares a live worker).
    (instance,) = [runtime for _, runtime in runtime_module.local_runtimes()]
    await sync_to_async(Message.objects.create)(
        conversation_id=conversation,
        role="assistant",
        status="streaming",
        worker=instance.worker,
        heartbeat=timezone.now(),  # alive to a runtime on Redis too
    )
    messages_before = await sync_to_async(Message.objects.count)()

    def second_asked() -> list:
        return [r for r in chat_requests(fake) if "second" in str(r.body["messages"])]

    real_hook = runtime_module.EarlyStart.hook

    def hook_then_wait(self, request):
        # The writes wait (on the database thread) until the request has reached the upstream.
        real_hook(self, request)
        assert fake.wait_for(second_asked)

    monkeypatch.setattr(runtime_module.EarlyStart, "hook", hook_then_wait)
    await socket.send_json_to(send_frame("[fake:chunks=50] [fake:delay=0.05] second", conversation))
    seen = await frames_until(socket, "error")
    error = seen[-1]
    assert error["code"] == "busy", seen
    early = second_asked()
    assert len(early) == 1, "the request went out once, before the writes"
    assert fake.wait_for(lambda: early[0].client_closed), "and was closed when they failed"
    assert not early[0].completed
    assert await sync_to_async(Message.objects.count)() == messages_before  # nothing of it saved
    await socket.disconnect()
