"""chat/upstream/client.py: the request it sends and how it reads the answer, over real HTTP."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from chat.models import ApiKey, ChatModel
from chat.upstream import client as upstream
from tests.conftest import CANARY_KEY, chat_requests

pytestmark = pytest.mark.django_db


def model(**fields) -> ChatModel:
    return ChatModel(name=fields.pop("name", "gpt-4.1"), label="x", **fields)


def stored_key(secret: str = CANARY_KEY) -> ApiKey:
    key = ApiKey(encrypted="", last4="")
    key.set_secret(secret)
    return key


@asynccontextmanager
async def tiny_upstream(settings, port: int, routes: list[web.RouteDef]):
    """A few handlers of our own standing in for TokenOff, for what the fake does not do."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    settings.TOKENOFF_BASE_URL = f"http://127.0.0.1:{port}/v1"
    try:
        yield
    finally:
        await runner.cleanup()


def test_a_chat_model_takes_temperature_and_max_tokens():
    body = upstream.chat_request(
        model(temperature=0.2, max_output_tokens=500), [{"role": "user", "content": "hi"}]
    )
    assert body["temperature"] == 0.2 and body["max_tokens"] == 500
    assert "max_completion_tokens" not in body and "reasoning_effort" not in body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def reasoning_model(**fields) -> ChatModel:
    """As 0015 seeds o3: reasoning efforts, no temperature, no top_p."""
    takes = {"takes_temperature": False, "takes_top_p": False, "reasoning_efforts": "low,medium,high"}
    return model(**{"name": "o3", "is_reasoning": True, **takes, **fields})


def test_a_reasoning_model_never_gets_temperature_or_max_tokens():
    reasoning = reasoning_model(temperature=0.7, top_p=0.5, max_output_tokens=800, reasoning_effort="low")
    body = upstream.chat_request(reasoning, [])
    assert "temperature" not in body and "top_p" not in body and "max_tokens" not in body
    assert body["max_completion_tokens"] == 800 and body["reasoning_effort"] == "low"


def test_the_request_carries_only_what_the_row_says_the_model_takes():
    """Choices set behind the admin's back (clean() refuses them) still stay out of the request."""
    body = upstream.chat_request(
        reasoning_model(
            reasoning_effort="minimal", verbosity="low", max_output_tokens=900, max_output_limit=500
        ),
        [],
    )
    assert "reasoning_effort" not in body and "verbosity" not in body
    assert body["max_completion_tokens"] == 500  # our cap, within the model's own
    gpt5 = reasoning_model(
        name="gpt-5", reasoning_efforts="minimal,low,medium,high", takes_verbosity=True, verbosity="low"
    )
    body = upstream.chat_request(gpt5, [])
    assert body["verbosity"] == "low" and "max_completion_tokens" not in body
    chat = upstream.chat_request(model(temperature=0.3, top_p=0.9, reasoning_effort="high"), [])
    assert chat["temperature"] == 0.3 and chat["top_p"] == 0.9 and "reasoning_effort" not in chat


async def collect(key, chat_model, messages) -> tuple[str, upstream.ReplyStream]:
    async with upstream.open_stream(key, chat_model, messages) as stream:
        text = "".join([piece async for piece in stream])
    return text, stream


async def test_a_reasoning_request_reaches_the_upstream_without_temperature(fake):
    key = stored_key()
    reasoning = reasoning_model(name="o4-mini", temperature=1.0, max_output_tokens=64)
    text, stream = await collect(key, reasoning, [{"role": "user", "content": "[fake:chunks=3]"}])
    body = chat_requests(fake)[0].body
    assert "temperature" not in body and "max_tokens" not in body and body["max_completion_tokens"] == 64
    assert text == "word1 word2 word3"
    assert stream.finish_reason == "stop" and stream.usage["completion_tokens"] == 3
    assert stream.served_model == "o4-mini-2025-04-14"


@pytest.mark.parametrize("title_model", ["gpt-4.1-nano", "o4-mini", "gpt-5-nano"])
async def test_a_short_completion_is_taken_by_chat_and_reasoning_models_alike(fake, title_model):
    """Titles and summaries: a reasoning model as TOKENOFF_TITLE_MODEL must not meet a 400."""
    answer = await upstream.complete(
        stored_key(), title_model, [{"role": "user", "content": "[fake:chunks=2]"}], 30
    )
    (request,) = [r for r in fake.requests if r.body]
    assert (
        request.status == 200
        and request.body["max_completion_tokens"] == 30
        and "max_tokens" not in request.body
    )
    assert answer.text


async def test_the_upstream_gets_the_body_exactly_as_built(fake):
    key = ApiKey(encrypted="", last4="")
    key.set_secret(CANARY_KEY)
    chat_model = model(temperature=0.3, max_output_tokens=200)
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi **there** ü"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "[fake:chunks=2]"},
    ]
    await collect(key, chat_model, history)
    request = chat_requests(fake)[0]
    assert request.body == upstream.chat_request(chat_model, history)
    assert request.authorization == f"Bearer {CANARY_KEY}"


async def test_each_request_carries_its_own_key_and_each_key_is_set_up_once(fake):
    keys = []
    for secret in (CANARY_KEY, "sk-second-member-key-2222", CANARY_KEY, "sk-second-member-key-2222"):
        key = ApiKey(encrypted="", last4="")
        key.set_secret(secret)
        keys.append(key)
    for key in keys:
        await collect(key, model(), [{"role": "user", "content": "[fake:chunks=1]"}])
    assert [r.authorization for r in chat_requests(fake)] == [f"Bearer {k.reveal()}" for k in keys]
    assert upstream.keyed_client(CANARY_KEY) is upstream.keyed_client(CANARY_KEY)
    assert upstream.keyed_client(CANARY_KEY) is not upstream.keyed_client("sk-second-member-key-2222")


async def test_a_missing_usage_is_none_and_the_finish_reason_is_kept(fake):
    key = stored_key()
    _, stream = await collect(
        key, model(), [{"role": "user", "content": "[fake:no_usage] [fake:finish=length]"}]
    )
    assert stream.usage is None and stream.finish_reason == "length"


async def test_only_text_content_is_relayed(fake):
    key = stored_key()
    text, _ = await collect(key, model(), [{"role": "user", "content": "[fake:echo] <b>as text</b>"}])
    assert text == "<b>as text</b>"


async def test_redirects_are_not_followed_with_the_key(settings, unused_tcp_port_factory):
    seen: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{port}/elsewhere/chat/completions")

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(text="{}")

    port = unused_tcp_port_factory()
    settings.TOKENOFF_MAX_RETRIES = 0
    routes = [
        web.post("/v1/chat/completions", redirect),
        web.post("/elsewhere/chat/completions", elsewhere),
    ]
    async with tiny_upstream(settings, port, routes):
        with pytest.raises(upstream.UpstreamError) as failure:
            await collect(stored_key(), model(), [{"role": "user", "content": "hi"}])
    assert failure.value.code == "upstream_error" and seen == []


async def test_an_unreachable_upstream_is_unavailable(settings, unused_tcp_port_factory):
    settings.TOKENOFF_BASE_URL = f"http://127.0.0.1:{unused_tcp_port_factory()}/v1"
    settings.TOKENOFF_MAX_RETRIES = 0
    key = stored_key()
    with pytest.raises(upstream.UpstreamError) as failure:
        await collect(key, model(), [{"role": "user", "content": "hi"}])
    assert failure.value.code == "upstream_unavailable"


async def test_a_stalled_upstream_times_out_between_chunks(fake, settings):
    settings.TOKENOFF_READ_TIMEOUT = 0.2
    key = stored_key()
    with pytest.raises(upstream.UpstreamError) as failure:
        await collect(key, model(), [{"role": "user", "content": "[fake:delay=1] [fake:chunks=3]"}])
    assert failure.value.code == "upstream_unavailable"


async def test_the_pool_is_sized_for_hundreds_of_streams(fake):
    client = upstream.client()
    assert client is upstream.client()  # one per process (event loop)
    assert client.max_retries == 0


async def test_tool_calls_refusals_and_other_fields_are_never_relayed(settings, unused_tcp_port_factory):
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": "TOOL-SECRET"}}]}}]},
        {"choices": [{"index": 0, "delta": {"refusal": "REFUSAL-TEXT"}}]},
        {"choices": [{"index": 0, "delta": {"content": {"html": "<b>not text</b>"}}}]},
        {"choices": [{"index": 0, "delta": {"content": "only this"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"total_tokens": 3}},
    ]

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(b"data: " + json.dumps({"model": "m", **chunk}).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", stream)
    runner = web.AppRunner(app)
    await runner.setup()
    port = unused_tcp_port_factory()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    settings.TOKENOFF_BASE_URL = f"http://127.0.0.1:{port}/v1"
    key = ApiKey(encrypted="", last4="")
    key.set_secret(CANARY_KEY)
    try:
        text, stream_ = await collect(key, model(), [{"role": "user", "content": "hi"}])
    finally:
        await runner.cleanup()
    assert text == "only this" and stream_.finish_reason == "stop"


async def test_a_wrong_profile_is_refused_like_the_real_upstream_does(fake):
    """The fake is as strict as TokenOff: the profiles above are what keeps requests from this."""
    wrong = model(name="o3", is_reasoning=False, temperature=0.5)
    with pytest.raises(upstream.UpstreamError) as refused:
        await collect(stored_key(), wrong, [{"role": "user", "content": "hi"}])
    assert refused.value.code == "unsupported_parameter" and "(temperature)" in refused.value.message
    assert "admin should correct" in refused.value.message
    right = reasoning_model(temperature=0.5, reasoning_effort="high")
    text, _ = await collect(stored_key(), right, [{"role": "user", "content": "[fake:chunks=2]"}])
    assert text == "word1 word2" and chat_requests(fake)[-1].body["reasoning_effort"] == "high"


async def test_a_key_check_calls_models_and_says_ok(fake):
    outcome = await upstream.check_key(stored_key())
    assert outcome.result == "ok" and "24 models" in outcome.detail
    request = fake.requests[-1]
    assert request.path == "/v1/models" and request.authorization == f"Bearer {CANARY_KEY}"


async def test_a_refused_key_is_rejected(fake):
    outcome = await upstream.check_key(stored_key("sk-bad-key-000000"))
    assert outcome.result == "rejected" and "refused the API key" in outcome.detail
    assert "sk-bad-key" not in outcome.detail


async def test_an_upstream_that_cannot_be_reached_is_unreachable(settings, unused_tcp_port_factory):
    settings.TOKENOFF_BASE_URL = f"http://127.0.0.1:{unused_tcp_port_factory()}/v1"
    outcome = await upstream.check_key(stored_key())
    assert outcome.result == "unreachable"


@pytest.mark.parametrize("status", [429, 503])
async def test_a_busy_or_failing_upstream_is_unreachable_not_a_rejected_key(
    status, settings, unused_tcp_port_factory
):
    async def models(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "no"}}, status=status)

    async with tiny_upstream(settings, unused_tcp_port_factory(), [web.get("/v1/models", models)]):
        outcome = await upstream.check_key(stored_key())
    assert outcome.result == "unreachable"


async def test_a_key_under_a_dropped_encryption_key_is_unreadable(settings, fake):
    from cryptography.fernet import Fernet

    key = stored_key()
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    outcome = await upstream.check_key(key)
    assert outcome.result == "unreadable" and "cannot be decrypted" in outcome.detail
    assert fake.requests == []  # nothing went out
