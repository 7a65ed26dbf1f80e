"""The Redis channel layer as chat uses it: frames cross it, and no chat text stays behind."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from channels.layers import channel_layers
from django.conf import settings as django_settings

from tests.conftest import reachable, require
from tests.ws import connected, frames_until, joined, send_frame

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]
LAYER_DB = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_layer(settings):
    require(reachable("127.0.0.1", 6379), "needs Redis on 127.0.0.1:6379")
    config = dict(settings.CHANNEL_LAYERS["default"].get("CONFIG", {}))
    # The run's own prefix (tests/settings.py): two runs on one Redis never share these keys.
    prefix = settings.TOKENOFF_REDIS_PREFIX + "-layer"
    config.update(hosts=[{"address": LAYER_DB, "socket_timeout": 30}], prefix=prefix)

    def use(**extra):
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {**config, **extra}}
        }
        channel_layers.backends.clear()

    use()
    yield use
    channel_layers.backends.clear()


async def redis_values() -> bytes:
    client = aioredis.from_url(LAYER_DB)
    try:
        chunks = []
        async for key in client.scan_iter(django_settings.TOKENOFF_REDIS_PREFIX + "-layer*"):
            kind = await client.type(key)
            if kind == b"zset":
                chunks += [member for member, _ in await client.zrange(key, 0, -1, withscores=True)]
            elif kind == b"list":
                chunks += await client.lrange(key, 0, -1)
            elif kind == b"string":
                chunks.append(await client.get(key) or b"")
        return b"".join(chunks)
    finally:
        await client.aclose()


async def test_no_chat_text_is_left_in_redis_once_a_reply_ends(redis_layer, alice, team_key, fake):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=30] secret-question-text"))
    frames = await frames_until(socket, "done")
    assert joined(frames) == " ".join(f"word{i}" for i in range(1, 31))
    await socket.disconnect()
    leftover = await redis_values()
    assert b"secret-question-text" not in leftover and b"word17" not in leftover


async def test_with_encryption_keys_the_text_crosses_redis_encrypted(redis_layer):
    redis_layer(symmetric_encryption_keys=["a-layer-key-for-tests"])
    layer = channel_layers["default"]
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "chat.frame", "text": "plain-chat-text-here"})
    assert b"plain-chat-text-here" not in await redis_values()
    assert (await layer.receive(channel))["text"] == "plain-chat-text-here"


@pytest.fixture
def group_deltas(monkeypatch) -> list[int]:
    """The seq of every delta a process sent to a conversation's group."""
    from channels_redis.core import RedisChannelLayer

    sent: list[int] = []
    real = RedisChannelLayer.group_send

    async def counted(self, group, message):
        if message.get("delta"):
            sent.append(message["delta"][1])
        return await real(self, group, message)

    monkeypatch.setattr(RedisChannelLayer, "group_send", counted)
    return sent


async def test_deltas_stay_off_redis_while_no_other_process_follows(
    redis_layer, alice, team_key, fake, group_deltas
):
    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=20] [fake:delay=0.2] alone"))
    frames = await frames_until(socket, "done")
    await socket.disconnect()
    assert joined(frames) == " ".join(f"word{i}" for i in range(1, 21))
    assert group_deltas == []  # started and done went to the group; no delta had to


async def test_deltas_cross_redis_when_a_socket_of_another_process_follows(
    redis_layer, alice, team_key, fake, group_deltas
):
    from chat.models import Conversation
    from chat.realtime.runtime import group_name

    socket = await connected(alice)
    await socket.send_json_to(send_frame("[fake:chunks=2] first"))
    started = (await frames_until(socket, "started"))[-1]
    await frames_until(socket, "done")
    # A socket of another process follows the conversation (its channel is in the group, not ours).
    layer = channel_layers["default"]
    await layer.group_add(group_name(started["conversation"]), "specific.another-process!socket")
    group_deltas.clear()
    await socket.send_json_to(
        send_frame("[fake:chunks=20] [fake:delay=0.2] again", conversation=started["conversation"])
    )
    frames = await frames_until(socket, "done")
    await socket.disconnect()
    deltas = [frame["seq"] for frame in frames if frame["type"] == "delta"]
    assert group_deltas == deltas and deltas
    assert await Conversation.objects.filter(pk=started["conversation"]).aexists()
