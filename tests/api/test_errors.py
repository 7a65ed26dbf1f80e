"""The API's refusals as the SDKs read them: status, OpenAI's shape, Retry-After, and whether to retry."""

from __future__ import annotations

import orjson
import pytest

from chat.api import errors
from chat.realtime.frames import Code, Refused


def test_an_exhausted_budget_says_when_it_resets_and_not_to_retry_meanwhile():
    response = errors.of_refused(
        Refused(Code.QUOTA_EXCEEDED, "Budget used up.", resets="2999-01-01")
    ).response()
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response["x-should-retry"] == "false"
    assert orjson.loads(response.content)["error"] == {
        "message": "Budget used up.",
        "type": "rate_limit_error",
        "code": "quota_exceeded",
    }


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (errors.of_upstream("upstream_auth", "TokenOff refused the key."), 502),
        (errors.of_refused(Refused(Code.NO_API_KEY, "No key.")), 503),
    ],
)
def test_a_missing_or_refused_key_is_not_retried(refusal, status):
    response = refusal.response()
    assert response.status_code == status and response["x-should-retry"] == "false"


@pytest.mark.parametrize(
    "refusal",
    [
        errors.of_refused(Refused(Code.RATE_LIMITED, "Too many.", retry_after=12)),
        errors.of_upstream("upstream_unavailable", "TokenOff is down."),
        errors.of_upstream("upstream_rate_limited", "TokenOff is rate limiting the key."),
    ],
)
def test_what_a_moment_may_change_is_left_to_the_sdks_retries(refusal):
    assert "x-should-retry" not in refusal.response()
