"""/api/v1/ through a real daphne, with the openai SDK as a script would use it."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from tests.api.conftest import new_token
from tests.conftest import chat_requests

MODEL = "gpt-4.1-mini"


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(1, n + 1))


def saved(live, code: str) -> dict:
    """What the site's database holds, as JSON the site's shell prints."""
    return json.loads(live.shell(f"import json\n{code}").strip().splitlines()[-1])


def last_api_conversation(live) -> dict:
    return saved(
        live,
        "c = Conversation.objects.filter(source='api').order_by('-id').first()\n"
        "print(json.dumps({'title': c.title, 'token': c.api_token_name, 'system': c.system_prompt,"
        " 'messages': [[m.role, m.content, m.finish_reason, m.prompt_tokens, m.completion_tokens]"
        " for m in c.messages.order_by('id')]}))",
    )


async def test_models_lists_what_the_member_may_use(api):
    listed = await api.models.list()
    names = [model.id for model in listed.data]
    assert MODEL in names and all(model.object == "model" for model in listed.data)


async def test_a_blocking_completion_is_answered_and_kept_as_an_api_conversation(api, live, fake_server):
    answer = await api.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "[fake:chunks=12] second question"},
        ],
        temperature=0.5,
    )
    assert answer.choices[0].message.content == words(12)
    assert answer.choices[0].finish_reason == "stop" and answer.object == "chat.completion"
    assert answer.usage.completion_tokens > 0 and answer.usage.total_tokens > answer.usage.prompt_tokens
    (request,) = chat_requests(fake_server)
    assert request.body["temperature"] == 0.5
    assert [m["role"] for m in request.body["messages"]] == ["system", "user", "assistant", "user"]
    kept = last_api_conversation(live)
    assert kept["token"] == "my script" and kept["system"] == "Be brief."
    assert kept["title"] == "[fake:chunks=12] second question"
    assert [m[:2] for m in kept["messages"]] == [
        ["user", "first question"],
        ["assistant", "first answer"],
        ["user", "[fake:chunks=12] second question"],
        ["assistant", words(12)],
    ]
    assert kept["messages"][-1][3:] == [answer.usage.prompt_tokens, answer.usage.completion_tokens]


async def test_a_streamed_completion_sends_chunks_then_the_usage(api, live):
    stream = await api.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "[fake:chunks=30] stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == words(30)
    assert len({c.id for c in chunks}) == 1 and {c.model for c in chunks} == {MODEL}
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert last_api_conversation(live)["messages"][-1][:3] == ["assistant", words(30), "stop"]


async def test_a_stream_without_include_usage_has_no_usage_chunk(api):
    stream = await api.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[fake:chunks=3] hi"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)


async def test_parameters_follow_the_models_table(api, fake_server):
    await api.chat.completions.create(
        model="o3",
        messages=[{"role": "user", "content": "[fake:chunks=2] think"}],
        max_tokens=500,
        reasoning_effort="high",
    )
    (request,) = chat_requests(fake_server)
    assert request.body["max_completion_tokens"] == 500 and request.body["reasoning_effort"] == "high"
    assert "max_tokens" not in request.body and "temperature" not in request.body
    with pytest.raises(openai.BadRequestError) as refused:
        await api.chat.completions.create(
            model="o3", messages=[{"role": "user", "content": "hi"}], temperature=0.3
        )
    assert refused.value.code == "unsupported_parameter" and "temperature" in refused.value.message
    assert len(chat_requests(fake_server)) == 1


async def test_a_client_that_goes_away_mid_stream_closes_the_upstream_request(api, live, fake_server):
    stream = await api.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "[fake:chunks=500] [fake:delay=0.05] a long one"}],
        stream=True,
    )
    received = ""
    async for chunk in stream:
        received += chunk.choices[0].delta.content or ""
        if len(received.split()) >= 3:
            break
    await stream.close()  # the HTTP connection goes: daphne tells Django, which cancels the response
    (request,) = chat_requests(fake_server)
    assert fake_server.wait_for(lambda: request.client_closed, timeout=10)
    assert not request.completed

    def stopped() -> bool:
        return last_api_conversation(live)["messages"][-1][2] == "stopped"

    assert await asyncio.to_thread(fake_server.wait_for, stopped, 15)
    kept = last_api_conversation(live)["messages"][-1]
    assert kept[1].startswith(received) and kept[4] > 0  # what arrived is kept, and counted


async def test_a_wrong_token_is_401(live):
    client = openai.AsyncOpenAI(base_url=f"{live.base_url}/api/v1", api_key="tok_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        await client.models.list()
    assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
    await client.close()


async def test_revoked_and_expired_tokens_and_a_deactivated_member_are_401(live, fake_server):
    fake_server.reset()
    revoked = new_token(live, "alice", "revoked")
    live.shell(f"ApiToken.objects.get(name='revoked').revoke()  # {revoked[:8]}")
    expired = new_token(live, "alice", "expired", "--days", "1")
    live.shell(
        "from django.utils import timezone\n"
        "ApiToken.objects.filter(name='expired').update(expires=timezone.now())"
    )
    live.create_user("carol", "carol-live-password-1")
    carols = new_token(live, "carol", "carol's")
    live.shell(
        "from django.contrib.auth.models import User\n"
        "User.objects.filter(username='carol').update(is_active=False)"
    )
    for token in (revoked, expired, carols):
        client = openai.AsyncOpenAI(base_url=f"{live.base_url}/api/v1", api_key=token, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        await client.close()
    assert chat_requests(fake_server) == []


async def test_a_model_not_allowed_is_403_and_an_unknown_one_404(api, live):
    live.shell(
        "from django.contrib.auth.models import Group\n"
        "g, _ = Group.objects.get_or_create(name='gpt-4.1 group')\n"
        "ChatModel.objects.get(name='gpt-4.1').groups.add(g)"
    )
    try:
        with pytest.raises(openai.PermissionDeniedError) as refused:
            await api.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
        assert refused.value.code == "model_not_allowed"
        assert "gpt-4.1" not in [model.id for model in (await api.models.list()).data]
    finally:
        live.shell("ChatModel.objects.get(name='gpt-4.1').groups.clear()")
    with pytest.raises(openai.NotFoundError):
        await api.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])


async def test_an_exhausted_budget_is_429_with_retry_after(api, live, fake_server):
    live.shell(
        "from decimal import Decimal\nfrom django.utils import timezone\n"
        "from chat.models.budgets import month_start\n"
        "from django.contrib.auth.models import User\n"
        "u = User.objects.get(username='alice')\n"
        "Budget.objects.create(user=u, monthly_tokens=100)\n"
        "Spend.add(month_start(timezone.now()), 100, Decimal(0), user_id=u.pk)"
    )
    try:
        with pytest.raises(openai.RateLimitError) as refused:
            await api.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        assert refused.value.code == "quota_exceeded"
        assert int(refused.value.response.headers["Retry-After"]) > 0
        assert chat_requests(fake_server) == []
    finally:
        live.shell("Budget.objects.filter(user__username='alice').delete()\nSpend.objects.all().delete()")


@pytest.mark.parametrize(
    ("directive", "status", "error"),
    [
        ("[fake:status=500]", 503, openai.InternalServerError),
        ("[fake:status=401]", 502, openai.InternalServerError),
    ],
)
async def test_an_upstream_failure_is_a_5xx(api, live, directive, status, error):
    for stream in (False, True):
        with pytest.raises(error) as refused:
            await api.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": f"{directive} hi"}], stream=stream
            )
        assert refused.value.status_code == status
    assert last_api_conversation(live)["messages"][-1][2] == "error"


async def test_bad_bodies_are_400_never_500(api, live, token):
    import aiohttp

    hi = '"messages": [{"role": "user", "content": "hi"}]'
    bodies = [
        "not json",
        "[]",
        '{"model": "gpt-4.1-mini"}',
        '{"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "a\\u0000b"}]}',
        '{"model": "gpt-4.1-mini", "messages": [{"role": "tool", "content": "hi"}]}',
        '{"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
        '{"model": "gpt-4.1-mini", "messages": [{"role": "assistant", "content": "hi"}]}',
        '{"model": ["x"], ' + hi + "}",
        *(
            '{"model": "gpt-4.1-mini", ' + hi + ", " + extra + "}"
            for extra in (
                '"max_tokens": 1e400',
                '"max_tokens": 99999999999',
                '"max_tokens": 99999999999999999999',
                '"max_tokens": [1]',
                '"temperature": "hot"',
                '"temperature": 7',
                '"tools": []',
                '"stream": "yes"',
                '"n": 2',
                '"top_p": {}',
            )
        ),
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for raw in bodies:
            async with session.post(
                f"{live.base_url}/api/v1/chat/completions", data=raw.encode(), headers=headers
            ) as r:
                answer = await r.json()
                assert r.status == 400, (raw, r.status, answer)
                assert set(answer["error"]) == {"message", "type", "code"}


async def test_the_sdk_does_not_retry_a_refused_key_nor_record_the_call_three_times(live, token, fake_server):
    fake_server.reset()
    client = openai.AsyncOpenAI(base_url=f"{live.base_url}/api/v1", api_key=token)  # the SDK's 2 retries
    try:
        with pytest.raises(openai.InternalServerError) as refused:
            await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "[fake:status=401] hi"}]
            )
    finally:
        await client.close()
    assert refused.value.status_code == 502 and refused.value.code == "upstream_auth"
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert len(chat_requests(fake_server)) == 1  # one upstream call, one conversation: not three
