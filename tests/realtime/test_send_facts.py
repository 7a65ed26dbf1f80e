"""Issue 19: a send's facts (models, groups, keys, budgets, preferences) are cached per process, and every
change to them takes effect on the very next send (store.begin) in the same process."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import ApiKey, Budget, ChatModel, ModelLimit, Preferences, Spend, freshness
from chat.models.budgets import month_start
from chat.realtime import store
from chat.realtime.frames import Code, Refused
from chat.usage import accounting as usage
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def send(user, model: str | None = None) -> store.Begun:
    return await store.begin(user, None, model, "hi", "worker:1:a")


async def refused(user, model: str | None = None) -> Code:
    with pytest.raises(Refused) as caught:
        await send(user, model)
    return caught.value.code


@sync_to_async
def reads_of_a_send(user, model: str | None = None) -> int:
    """The queries the facts of a send by this user cost now: 1 (the stamp) once they are cached."""
    with CaptureQueriesContext(connection) as queries, freshness.snapshot():
        ChatModel.for_send(user, model)
        key = ApiKey.objects.for_user(user)
        usage.standing(user, via_team_key=key is not None and key.is_team)
    return len(queries)


@sync_to_async
def group(name: str, *members) -> Group:
    created = Group.objects.create(name=name)
    created.user_set.add(*members)
    return created


@sync_to_async
def keep_for(model_name: str, kept_for: Group) -> None:
    ChatModel.objects.get(name=model_name).groups.add(kept_for)


async def test_a_model_kept_for_a_group_takes_effect_on_the_next_send(alice, team_key):
    assert (await send(alice, "o3")).chat_model.name == "o3"
    assert await reads_of_a_send(alice, "o3") == 1  # cached: what follows must not be stale
    research = await group("Research")
    await keep_for("o3", research)
    assert await refused(alice, "o3") == Code.MODEL_UNAVAILABLE
    await sync_to_async(research.user_set.add)(alice)
    assert (await send(alice, "o3")).chat_model.name == "o3"


async def test_a_removed_group_membership_takes_effect_on_the_next_send(alice, team_key):
    research = await group("Research", alice)
    await keep_for("o3", research)
    assert (await send(alice, "o3")).chat_model.name == "o3"
    assert await reads_of_a_send(alice, "o3") == 1
    await sync_to_async(alice.groups.remove)(research)
    assert await refused(alice, "o3") == Code.MODEL_UNAVAILABLE


async def test_a_disabled_model_takes_effect_on_the_next_send(alice, team_key):
    assert (await send(alice, "o3")).chat_model.name == "o3"
    assert await reads_of_a_send(alice, "o3") == 1
    # The admin's "disable" action is a queryset update: no post_save, still a new stamp.
    await sync_to_async(ChatModel.objects.filter(name="o3").update)(enabled=False)
    assert await refused(alice, "o3") == Code.MODEL_UNAVAILABLE
    model = await sync_to_async(ChatModel.objects.get)(name="o3")
    model.enabled = True
    await sync_to_async(model.save)()
    assert (await send(alice, "o3")).chat_model.name == "o3"


async def test_a_deleted_group_lifts_its_limit_on_the_next_send(alice, team_key):
    interns = await group("Interns", alice)
    limit = await sync_to_async(ModelLimit.objects.create)(group=interns)
    await sync_to_async(limit.allowed_models.set)([await sync_to_async(ChatModel.objects.get)(name="o3")])
    assert (await send(alice, "o3")).chat_model.name == "o3"
    assert await reads_of_a_send(alice, "gpt-4.1") == 1
    assert await refused(alice, "gpt-4.1") == Code.MODEL_UNAVAILABLE
    await sync_to_async(interns.delete)()
    assert (await send(alice, "gpt-4.1")).chat_model.name == "gpt-4.1"


async def test_a_new_default_model_takes_effect_on_the_next_send(alice, team_key):
    assert (await send(alice)).chat_model.name == "gpt-4.1"
    o3 = await sync_to_async(ChatModel.objects.get)(name="o3")
    await sync_to_async(Preferences.objects.create)(user=alice, default_model=o3)
    assert (await send(alice)).chat_model.name == "o3"


async def test_a_deleted_key_takes_effect_on_the_next_send(alice, team_key):
    own = await sync_to_async(ApiKey.store)("sk-alice-own-key-0000", user=alice)
    assert (await send(alice)).key.pk == own.pk
    assert await reads_of_a_send(alice) == 1
    await sync_to_async(own.delete)()
    assert (await send(alice)).key.pk == team_key.pk
    await sync_to_async(team_key.delete)()
    assert await refused(alice) == Code.NO_API_KEY


async def test_a_new_budget_and_new_spending_take_effect_on_the_next_send(alice, team_key):
    month = month_start(timezone.now())
    await sync_to_async(Spend.add)(month, 5_000, Decimal(0), user_id=alice.pk)
    await send(alice)  # no budget applies: the spending is not even read
    assert await reads_of_a_send(alice) == 1
    await sync_to_async(Budget.objects.create)(user=alice, monthly_tokens=100_000)
    assert (await send(alice)).notice is None
    assert await reads_of_a_send(alice) == 2  # the stamp, and the spending: never cached
    await sync_to_async(Spend.add)(month, 100_000, Decimal(0), user_id=alice.pk)
    assert await refused(alice) == Code.QUOTA_EXCEEDED


async def test_a_send_leaves_the_stamp_as_it_was(alice, team_key):
    """Sends write last_used and their own rows: none is a fact of the next send."""
    await send(alice)
    before = await sync_to_async(freshness.current)()
    await send(alice)
    await send(alice, "o3")
    assert await sync_to_async(freshness.current)() == before is not None


@pytest.mark.postgres_only  # a database the background lane has a connection of its own to (lanes.separate)
async def test_a_socket_opening_reads_its_members_send_facts_ahead(alice, team_key):
    """The member's first send then reads none of them (only the stamp): store.warm on the background lane."""
    await sync_to_async(freshness.clear)()
    wanted = {("key", alice.pk), ("groups", alice.pk), ("preferences", alice.pk), ("budget", alice.pk)}
    socket = await connected(alice)
    deadline = asyncio.get_running_loop().time() + 5
    while not wanted <= set(freshness._entries) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)  # the read-ahead runs as a task of the runtime, on the database thread
    assert wanted <= set(freshness._entries)
    assert await reads_of_a_send(alice) == 1
    await socket.disconnect()
