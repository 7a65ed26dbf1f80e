"""The fake upstream refuses parameters per model family as the real API does (chat/demo/parameters.py)."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from chat.demo.harness import FakeUpstream
from chat.demo.parameters import family_of


@pytest.fixture(scope="module")
def server():
    fake = FakeUpstream()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def client(server):
    server.reset()
    with OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=5) as sdk:
        yield sdk


def refused(client: OpenAI, model: str, text: str = "hi", **params) -> dict:
    """The error body of a request the fake must refuse with 400."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}], **params)
    return caught.value.body


def taken(client: OpenAI, model: str, text: str = "[fake:chunks=1]", **params) -> str:
    answer = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], **params
    )
    return answer.choices[0].message.content


@pytest.mark.parametrize(
    ("model", "params", "code", "param"),
    [
        ("o3", {"temperature": 0.7}, "unsupported_value", "temperature"),
        ("gpt-5", {"top_p": 0.5}, "unsupported_value", "top_p"),
        ("gpt-5", {"max_tokens": 100}, "unsupported_parameter", "max_tokens"),
        ("gpt-4.1", {"reasoning_effort": "low"}, "unsupported_parameter", "reasoning_effort"),
        ("gpt-5.1", {"reasoning_effort": "minimal"}, "unsupported_value", "reasoning_effort"),
        ("gpt-5", {"reasoning_effort": "none"}, "unsupported_value", "reasoning_effort"),
        ("gpt-5-codex", {"reasoning_effort": "xhigh"}, "unsupported_value", "reasoning_effort"),
        ("gpt-5.1-codex-mini", {"reasoning_effort": "low"}, "unsupported_value", "reasoning_effort"),
        ("o3", {"verbosity": "low"}, "unsupported_parameter", "verbosity"),
        ("gpt-4o", {"verbosity": "low"}, "unsupported_parameter", "verbosity"),
        ("gpt-4o", {"max_tokens": 16_385}, "invalid_value", "max_tokens"),
        ("o4-mini", {"max_completion_tokens": 100_001}, "invalid_value", "max_completion_tokens"),
    ],
)
def test_a_parameter_the_model_refuses_is_a_400_in_openais_shape(client, model, params, code, param):
    error = refused(client, model, **params)
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")


def test_the_refusal_names_the_values_the_model_takes(client):
    error = refused(client, "gpt-5.1", reasoning_effort="minimal")
    assert error["message"] == (
        "Unsupported value: 'minimal' is not supported with the 'gpt-5.1' model. "
        "Supported values are: 'none', 'low', 'medium', and 'high'."
    )


def test_what_each_family_takes_goes_through(client, server):
    assert taken(client, "o3", reasoning_effort="high", max_completion_tokens=100_000) == "word1"
    assert taken(client, "gpt-5-mini", reasoning_effort="minimal", verbosity="high") == "word1"
    assert taken(client, "gpt-5.4-2026-03-05", reasoning_effort="xhigh") == "word1"  # a dated name
    assert taken(client, "gpt-4.1", temperature=1.5, top_p=0.3, max_tokens=32_768) == "word1"
    # A model the fake has no rules for is not checked.
    assert taken(client, "my-own-model", temperature=0.2, reasoning_effort="whatever") == "word1"
    assert all(request.status == 200 for request in server.requests)


def test_a_prompt_longer_than_the_window_is_context_length_exceeded(client):
    # Counted as the real API counts (" a" is a token; 7 more frame the message): gpt-4o reads 128,000.
    assert taken(client, "gpt-4o", " a" * 127_993) != ""
    error = refused(client, "gpt-4o", " a" * 127_994)
    assert (error["code"], error["param"]) == ("context_length_exceeded", "messages")
    assert "maximum context length is 128000 tokens" in error["message"]
    # The window directive sets one request's window, for any model.
    error = refused(client, "my-own-model", "[fake:window=3] a little more than twelve characters")
    assert error["code"] == "context_length_exceeded"


def test_every_default_model_has_a_family():
    from chat.demo.server import DEFAULT_MODELS

    assert [name for name in DEFAULT_MODELS if family_of(name) is None] == []
