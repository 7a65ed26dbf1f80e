"""/api/v1/ views in this process: a client that goes away at the wrong moment, the CSRF exemption."""

from __future__ import annotations

import asyncio
import sys

import orjson
import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncRequestFactory
from django.views.debug import ExceptionReporter

from chat.api import access, body, views
from chat.models import ApiToken, Message
from chat.realtime import store
from tests.conftest import chat_requests

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BODY = orjson.dumps(
    {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "[fake:chunks=5] hi"}]}
)


@sync_to_async
def replies() -> list[tuple[str, str]]:
    return list(Message.objects.filter(role="assistant").values_list("status", "finish_reason"))


async def settled(predicate, timeout: float = 10.0) -> bool:
    """Wait for a database predicate to hold (the reply ends as a task of its own)."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)
    return True


@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_gone_while_its_call_is_being_saved_leaves_no_reply_streaming(
    alice, team_key, fake, monkeypatch, stream
):
    _, token = await sync_to_async(ApiToken.issue)(alice, "script")
    real_begin = store.begin
    saved, go_on = asyncio.Event(), asyncio.Event()

    async def paused_begin(*args, **kwargs):
        begun = await real_begin(*args, **kwargs)  # the question and a streaming reply are committed…
        saved.set()
        await go_on.wait()  # …and the client goes away before the reply is launched
        return begun

    monkeypatch.setattr(store, "begin", paused_begin)
    body = orjson.loads(BODY) | {"stream": stream}
    request = AsyncRequestFactory().post(
        "/api/v1/chat/completions",
        data=orjson.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    call = asyncio.create_task(views.chat_completions(request))
    await asyncio.wait_for(saved.wait(), 10)
    call.cancel()  # what Django does to an async view on http.disconnect
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await call

    async def ended() -> bool:
        return all(status == "done" for status, _ in await replies())

    assert await settled(ended)
    assert await replies() == [("done", "stopped")]


async def test_a_stream_closed_before_its_body_began_stops_the_reply(alice, team_key, fake):
    _, token = await sync_to_async(ApiToken.issue)(alice, "script")
    body = {
        "model": "gpt-4.1-mini",
        "stream": True,
        "messages": [{"role": "user", "content": "[fake:chunks=500] [fake:delay=0.05] long"}],
    }
    request = AsyncRequestFactory().post(
        "/api/v1/chat/completions",
        data=orjson.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    response = await views.chat_completions(request)
    assert response.status_code == 200
    # The client went away while Django sent the headers: the body is never read, the response closed
    # (in a thread, as Django's ASGI handler does).
    await sync_to_async(response.close)()

    async def stopped() -> bool:
        return await replies() == [("done", "stopped")]

    assert await settled(stopped)  # not the 25 s the whole reply would take
    (request,) = chat_requests(fake)
    assert await asyncio.to_thread(fake.wait_for, lambda: request.client_closed, 10)


async def test_a_session_without_a_token_is_refused_though_csrf_is_exempt(alice, team_key, fake):
    request = AsyncRequestFactory().post(
        "/api/v1/chat/completions", data=BODY, content_type="application/json"
    )
    request.user = alice  # as a session cookie would make it: the API never reads it
    response = await views.chat_completions(request)
    assert (
        response.status_code == 401 and orjson.loads(response.content)["error"]["code"] == "invalid_api_key"
    )
    assert await replies() == []


async def test_an_unexpected_failure_report_never_shows_the_token(alice, monkeypatch):
    _, token = await sync_to_async(ApiToken.issue)(alice, "script")

    def broken(raw):
        raise RuntimeError("a bug while reading the body")

    monkeypatch.setattr(body, "parse", broken)
    request = AsyncRequestFactory().post(
        "/api/v1/chat/completions", data=BODY, content_type="application/json"
    )
    try:
        await views._admitted(access.Header(f"Bearer {token}"), BODY)
    except RuntimeError:
        kind, error, trace = sys.exc_info()  # from the API's frames on, not this test's with its token
        report = ExceptionReporter(
            request, kind, error, trace.tb_next
        ).get_traceback_html()  # DEBUG's 500 page, mails
    assert "a bug while reading the body" in report and "admit" in report
    assert token not in report and token[4:20] not in report


async def test_a_body_over_the_upload_limit_is_413_in_openais_shape(alice):
    _, token = await sync_to_async(ApiToken.issue)(alice, "script")
    huge = b'{"model": "gpt-4.1-mini", "metadata": {"x": "' + b"a" * 3_000_000 + b'"}}'
    request = AsyncRequestFactory().post(
        "/api/v1/chat/completions",
        data=huge,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    response = await views.chat_completions(request)
    assert response.status_code == 413 and orjson.loads(response.content)["error"]["code"] == "too_large"
