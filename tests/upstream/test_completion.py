"""A blocking completion's answer (titles, summaries), read from its JSON without the SDK's typed objects."""

from __future__ import annotations

import pytest

from chat.upstream.client import UpstreamError, _completion


def test_the_text_and_the_usage_as_sent_without_empty_fields():
    answer = {
        "choices": [{"message": {"role": "assistant", "content": "Trip to Rome"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "cost": None},
    }
    done = _completion(answer)
    assert done.text == "Trip to Rome"
    assert done.usage == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


def test_no_choice_or_no_content_is_an_empty_text_and_no_usage_is_none():
    assert _completion({"choices": []}).text == ""
    assert _completion({"choices": [{"message": {"content": None}}]}).text == ""
    assert _completion({"choices": [{"message": {"content": "x"}}]}).usage is None


@pytest.mark.parametrize(
    "answer",
    [
        [],
        "text",
        {"choices": "x"},
        {"choices": [1]},
        {"choices": [{"message": "x"}]},
        {"choices": [{"message": {"content": 5}}]},
    ],
)
def test_an_answer_of_the_wrong_shape_is_an_upstream_error(answer):
    with pytest.raises(UpstreamError) as refused:
        _completion(answer)
    assert refused.value.code == "upstream_error"
