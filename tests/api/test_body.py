"""Reading a /chat/completions body: what the chat can do is taken, anything else refused with a 400."""

from __future__ import annotations

import orjson
import pytest

from chat.api import body
from chat.api.errors import ApiError

HI = [{"role": "user", "content": "hi"}]


def parse(**fields) -> body.Ask:
    return body.parse(orjson.dumps({"model": "gpt-4.1", "messages": HI, **fields}))


def refused(raw: bytes) -> ApiError:
    with pytest.raises(ApiError) as caught:
        body.parse(raw)
    return caught.value


def test_system_and_developer_messages_make_the_system_prompt_and_the_rest_are_turns():
    ask = parse(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use English."}]},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": None},
            {"role": "user", "content": [{"type": "text", "text": "two"}, {"type": "text", "text": "three"}]},
        ]
    )
    assert ask.system_prompt == "Be brief.\n\nUse English."
    assert ask.turns == (("user", "one"), ("assistant", "")) and ask.question == "two\nthree"


def test_parameters_are_kept_under_the_chats_names():
    ask = parse(temperature=0.2, max_completion_tokens=300, reasoning_effort="low", top_p=0.5)
    assert ask.chosen == {"temperature": 0.2, "reasoning_effort": "low", "max_tokens": 300}
    assert ask.top_p == 0.5


def test_streaming_and_include_usage():
    assert (parse().stream, parse().include_usage) == (False, False)
    ask = parse(stream=True, stream_options={"include_usage": True})
    assert (ask.stream, ask.include_usage) == (True, True)


def test_harmless_fields_are_accepted_at_their_defaults():
    assert parse(user="me", seed=3, n=1, logprobs=False, response_format={"type": "text"}).question == "hi"


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"1",
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e999}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "n": 123456789012345678901}',
        b'{"model": "gpt-4.1", "messages": []}',
        b'{"model": "", "messages": [{"role": "user", "content": "hi"}]}',
        b'{"model": "a\\u0000b", "messages": [{"role": "user", "content": "hi"}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "a\\u0000b"}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": 5}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "  "}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "system", "content": "only a system prompt"}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "tool", "content": "x"}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": [1]}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "tools": [{}]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "n": 2}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "temperature": true}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1.5}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": [1]}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, '
        b'"max_completion_tokens": 6}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "stream_options": 3}',
        b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": {}}',
    ],
)
def test_odd_input_is_a_400(raw):
    error = refused(raw)
    assert error.status == 400 and set(error.body()["error"]) == {"message", "type", "code"}


def test_a_message_past_the_chats_limit_is_413(settings):
    settings.TOKENOFF_MAX_CONTENT = 10
    assert (
        refused(orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 11}]})).status
        == 413
    )
