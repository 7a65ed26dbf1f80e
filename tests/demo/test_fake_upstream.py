"""The offline fake upstream, driven through the real openai SDK and through raw HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import openai
import orjson
import pytest
from openai import AsyncOpenAI, OpenAI

from chat.demo.directives import canned_reply, tokenize
from chat.demo.harness import FakeUpstream
from chat.demo.server import DEFAULT_MODELS

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer sk-test"}


@pytest.fixture(scope="module")
def server():
    fake = FakeUpstream()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
def client(fake):
    with OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0, timeout=5) as sdk:
        yield sdk


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "You are terse."}, {"role": "user", "content": text}]


def sse_events(raw: bytes) -> list[str]:
    """The `data:` payloads of a raw SSE body, checking every event is `data: ...` + blank line."""
    assert raw.endswith(b"\n\n")
    events = raw[:-2].split(b"\n\n")
    assert all(e.startswith(b"data: ") and b"\n" not in e for e in events)
    return [e[6:].decode() for e in events]


def raw_stream(fake: FakeUpstream, body: dict, headers: dict | None = None) -> httpx2.Response:
    response = httpx2.post(
        fake.base_url + "/chat/completions", json=body, headers={**AUTH, **(headers or {})}, timeout=5
    )
    response.read()
    return response


def test_tokenize_round_trips():
    text = canned_reply("Hello there!\n\n- second line\n\n```python\nprint(1)\n```")
    pieces = tokenize(text)
    assert "".join(pieces) == text
    assert pieces[:3] == ["Hello", "!", " Thanks"]
    assert "\n" in pieces and "```" not in pieces  # newlines alone, backticks one per piece
    # The message comes back as written (tests/demo/test_echo.py), no longer quoted.
    assert "```python" in text and "\n- second line" in text


def test_streamed_reply_through_sdk(fake, client):
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=user("hi there"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    first, content, final = chunks[0], chunks[1:-1], chunks[-1]
    assert first.choices[0].delta.role == "assistant"
    assert first.choices[0].delta.content == ""
    assert first.choices[0].finish_reason is None
    assert first.id.startswith("resp_")
    assert {c.id for c in chunks} == {first.id}
    assert {c.model for c in chunks} == {"gpt-4.1-2025-04-14"}
    assert "".join(c.choices[0].delta.content for c in content) == canned_reply("hi there")
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].delta.content is None
    assert final.usage.completion_tokens == len(content)
    # As the real API counts (o200k_base): 3 priming + 2 messages x 3 markers + "system" 1 +
    # "You are terse." 4 + "user" 1 + "hi there" 2.
    assert final.usage.prompt_tokens == 17
    assert final.usage.total_tokens == final.usage.prompt_tokens + final.usage.completion_tokens
    record = fake.requests[-1]
    assert record.completed and not record.client_closed
    assert record.chunks_sent == len(content)
    assert record.body["model"] == "gpt-4.1"
    assert record.authorization == "Bearer sk-test"


def test_raw_sse_format(fake):
    response = raw_stream(fake, {"model": "gpt-4o", "messages": user("[fake:chunks=2]"), "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content.endswith(b"\n\ndata: [DONE]\n\n")
    events = sse_events(response.content)
    assert events[-1] == "[DONE]"
    first = json.loads(events[0])
    head = f'{{"id":"{first["id"]}","object":"chat.completion.chunk","created":{first["created"]},'
    head += '"model":"gpt-4o-2025-04-14","choices":[{"index":0,"delta":'
    assert events == [
        head + '{"role":"assistant","content":""},"finish_reason":null}]}',
        head + '{"content":"word1"},"finish_reason":null}]}',
        head + '{"content":" word2"},"finish_reason":null}]}',
        head + '{},"finish_reason":"stop"}]}',  # no usage: include_usage was not asked for
        "[DONE]",
    ]


def test_raw_usage_and_stamp(fake):
    body = {
        "model": "o3",
        "messages": user("[fake:chunks=3] [fake:stamp] [fake:finish=length]"),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    before = time.time()
    events = [json.loads(e) for e in sse_events(raw_stream(fake, body).content)[:-1]]
    assert "sent_at" not in events[0] and "sent_at" not in events[-1]
    assert all(before <= e["sent_at"] <= time.time() for e in events[1:-1])
    assert list(events[1]) == ["id", "object", "created", "model", "choices", "sent_at"]
    assert events[-1]["choices"][0]["finish_reason"] == "length"
    # 9 for the frame and "You are terse." (as above), 2 x 1 for the roles, 19 for the directives.
    assert events[-1]["usage"] == {"prompt_tokens": 34, "completion_tokens": 3, "total_tokens": 37}

    body["messages"] = user("[fake:chunks=3] [fake:no_usage]")
    assert "usage" not in json.loads(sse_events(raw_stream(fake, body).content)[-2])


def test_clock_pieces_are_their_own_send_times(fake):
    body = {"model": "gpt-4o", "messages": user("[fake:chunks=3] [fake:clock]"), "stream": True}
    before = time.time()
    events = [json.loads(e) for e in sse_events(raw_stream(fake, body).content)[:-1]]
    texts = [e["choices"][0]["delta"]["content"] for e in events[1:-1]]
    assert len(texts) == 3 and all(text.startswith(" ") for text in texts)
    times = [float(text) for text in texts]
    assert before <= times[0] <= times[1] <= times[2] <= time.time()


def test_blocking_reply(fake, client):
    completion = client.chat.completions.create(model="gpt-5-mini", messages=user("Tell me **more**"))
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-5-mini-2025-04-14"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == canned_reply("Tell me **more**")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == len(tokenize(canned_reply("Tell me **more**")))
    assert fake.requests[-1].completed

    short = client.chat.completions.create(model="gpt-5-mini", messages=user("hi"), max_completion_tokens=3)
    assert short.choices[0].message.content == "Hello! Thanks"
    assert short.choices[0].finish_reason == "length"


def test_models(fake, client):
    models = list(client.models.list())
    assert [m.id for m in models] == list(DEFAULT_MODELS)
    assert len(models) == 24
    assert {m.owned_by for m in models} == {"tokenoff"}
    assert client.models.retrieve("o3").id == "o3"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_custom_model_list():
    with FakeUpstream(models=["a", "b"]) as fake:
        body = httpx2.get(fake.base_url + "/models", headers=AUTH).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["a", "b"]


def test_missing_key_is_401(fake):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        response = httpx2.get(fake.base_url + "/models", headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert set(error) == {"message", "type", "code"}
    assert fake.requests[0].authorization is None


def test_bad_key_is_authentication_error(fake):
    with OpenAI(base_url=fake.base_url, api_key="sk-bad-123", max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError) as info:
            sdk.chat.completions.create(model="gpt-4.1", messages=user("hi"), stream=True)
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_status_directive(fake, client, status, error):
    with pytest.raises(error) as info:
        client.chat.completions.create(
            model="gpt-4.1", messages=user(f"x [fake:status={status}]"), stream=True
        )
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict) and info.value.body["message"]
    if status == 429:
        assert info.value.response.headers["retry-after"] == "0"
    assert fake.requests[-1].status == status
    assert fake.requests[-1].chunks_sent == 0


def test_cut_raises_connection_error(fake, client):
    stream = client.chat.completions.create(model="gpt-4.1", messages=user("[fake:cut=3]"), stream=True)
    received = []
    # The chunked body ends without its terminator: httpx2 raises RemoteProtocolError, the SDK wraps it.
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 4  # role chunk + 3 content chunks, never a finish_reason
    assert all(c.choices[0].finish_reason is None for c in received)
    record = fake.requests[-1]
    assert record.chunks_sent == 3
    assert not record.completed and not record.client_closed


def test_blocking_cut_drops_the_connection(fake, client):
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4.1", messages=user("[fake:cut=0]"))
    assert not fake.requests[-1].completed and not fake.requests[-1].client_closed


def test_garbage_line_fails_sdk_parsing(fake, client):
    stream = client.chat.completions.create(model="gpt-4.1", messages=user("[fake:garbage]"), stream=True)
    received = []
    # The SDK's SSE decoder calls json.loads on every data line and lets the error out unwrapped.
    with pytest.raises(json.JSONDecodeError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2  # role + first content chunk

    events = sse_events(
        raw_stream(fake, {"model": "m", "messages": user("[fake:garbage]"), "stream": True}).content
    )
    assert events[2] == "this is not json"
    assert events[-1] == "[DONE]"  # the stream goes on normally after the bad line


def test_error_chunk(fake, client):
    stream = client.chat.completions.create(model="gpt-4.1", messages=user("[fake:error_chunk]"), stream=True)
    with pytest.raises(openai.APIError, match="upstream exploded"):
        list(stream)
    events = sse_events(
        raw_stream(fake, {"model": "m", "messages": user("[fake:error_chunk]"), "stream": True}).content
    )
    assert len(events) == 3
    assert json.loads(events[2]) == {"error": {"message": "upstream exploded", "type": "server_error"}}


def test_client_closing_mid_stream_is_seen(fake, client):
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=user("[fake:delay=0.05] [fake:chunks=200]"), stream=True
    )
    iterator = iter(stream)
    for _ in range(3):
        next(iterator)
    stream.close()
    record = fake.requests[-1]
    assert fake.wait_for(lambda: record.client_closed, timeout=10)
    assert not record.completed
    # Its handler has returned (finished_at is stamped on the way out), so nothing more can be written:
    # the count is final, and it stopped a few chunks after the three read.
    assert fake.wait_for(lambda: record.finished_at is not None, timeout=10)
    assert record.chunks_sent < 10  # it stopped writing


def test_async_client_close_and_stream(fake):
    async def run() -> tuple[str, int]:
        async with AsyncOpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0) as sdk:
            stream = await sdk.chat.completions.create(
                model="gpt-4.1", messages=user("[fake:delay=0.05] [fake:chunks=200]"), stream=True
            )
            count = 0
            async for _ in stream:
                count += 1
                if count == 3:
                    break
            await stream.close()
            stream = await sdk.chat.completions.create(model="gpt-4.1", messages=user("async"), stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            return text, count

    text, count = asyncio.run(run())
    assert text == canned_reply("async")
    assert count == 3
    closed, done = fake.requests
    assert fake.wait_for(lambda: closed.client_closed, timeout=1.0)
    assert done.completed


def test_echo_returns_exact_text(fake, client):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & é 😀'
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=user(f"{hostile} [fake:echo]"), stream=True
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == hostile
    assert all(len(p) == 5 for p in pieces[:-1])

    blocking = client.chat.completions.create(model="gpt-4.1", messages=user(f"[fake:echo]{hostile}"))
    assert blocking.choices[0].message.content == hostile


def test_chunks_and_delay(fake, client):
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="gpt-4.1", messages=user("[fake:chunks=5] [fake:delay=0.02]"), stream=True
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert pieces == ["word1", " word2", " word3", " word4", " word5"]
    assert time.monotonic() - started >= 0.1  # 5 content chunks + final, 0.02 s apart


def test_header_directives_win(fake, client):
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="gpt-4.1",
            messages=user("[fake:status=429]"),
            stream=True,
            extra_headers={"X-Fake": "status=500; cut=3"},
        )
    assert fake.requests[-1].directives == {"status": 500, "cut": 3}

    stream = client.chat.completions.create(
        model="gpt-4.1", messages=user("[fake:chunks=50]"), stream=True, extra_headers={"X-Fake": "chunks=2"}
    )
    assert [c.choices[0].delta.content for c in stream if c.choices][1:-1] == ["word1", " word2"]

    with pytest.raises(openai.RateLimitError):
        client.models.list(extra_headers={"X-Fake": "status=429"})


def test_bad_directive_is_400(fake, client):
    with pytest.raises(openai.BadRequestError, match="chunk"):
        client.chat.completions.create(model="gpt-4.1", messages=user("[fake:chunk=5]"))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4.1", messages=user("[fake:cut=many]"))


def test_unknown_url_and_bad_json(fake):
    response = httpx2.get(fake.base_url + "/nope", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_url"
    response = httpx2.post(fake.base_url + "/chat/completions", content=b"{nope", headers=AUTH)
    assert response.status_code == 400
    assert "error" in response.json()


def test_requests_endpoint(fake, client):
    client.chat.completions.create(model="gpt-4.1", messages=user("[fake:chunks=1]"))
    records = orjson.loads(httpx2.get(f"http://{fake.host}:{fake.port}/_fake/requests").content)
    assert len(records) == 1  # the control endpoint does not record itself
    assert records[0]["path"] == "/v1/chat/completions"
    assert records[0]["completed"] is True
    assert records[0]["body"]["messages"][-1]["content"] == "[fake:chunks=1]"
    assert httpx2.delete(f"http://{fake.host}:{fake.port}/_fake/requests").status_code == 204
    assert fake.requests == []


def test_cli_serves_until_sigterm():
    command = [sys.executable, "-m", "chat.demo", "--port", "0", "--delay", "0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            line = process.stdout.readline().strip()
            assert line.startswith("fake upstream listening on http://127.0.0.1:")
            base_url = line.rsplit(" ", 1)[1]
            with OpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as sdk:
                assert sdk.chat.completions.create(model="o3", messages=user("[fake:chunks=2]")).choices
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_a_title_request_gets_a_short_title():
    from openai import OpenAI

    with FakeUpstream() as fake:
        client = OpenAI(api_key="sk-test", base_url=fake.base_url)
        result = client.chat.completions.create(
            model="gpt-4.1-nano",
            messages=[
                {"role": "system", "content": "Write a title for this chat."},
                {"role": "user", "content": "how do I sort a list in python?"},
            ],
        )
    assert result.choices[0].message.content == "How do I sort a list"
