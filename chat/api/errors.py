"""The API's refusals in OpenAI's shape, {"error": {"message", "type", "code"}}, with the matching status."""

from __future__ import annotations

import datetime as dt
import math

from django.http import JsonResponse
from django.utils import timezone

from chat.realtime.frames import Code, Refused

# OpenAI's `type` for each status: the SDK raises by status, scripts read `code`.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}

# The chat's error codes (docs/protocol.md) as the API's statuses.
_STATUSES = {
    Code.BAD_REQUEST: 400,
    Code.TOO_LARGE: 413,
    Code.NOT_FOUND: 404,
    Code.MODEL_UNAVAILABLE: 403,
    Code.NO_API_KEY: 503,
    Code.RATE_LIMITED: 429,
    Code.QUOTA_EXCEEDED: 429,
    Code.CONTEXT_LENGTH_EXCEEDED: 400,
    Code.UNSUPPORTED_PARAMETER: 400,
    Code.UPSTREAM_AUTH: 502,
    Code.UPSTREAM_ERROR: 502,
    Code.UPSTREAM_RATE_LIMITED: 503,
    Code.UPSTREAM_UNAVAILABLE: 503,
    Code.BUSY: 409,
}
# The upstream's time-outs share upstream_unavailable with its refusals (chat/upstream/client.py and
# chat/realtime/reply.py say which in their words): a gateway time-out is the status a client expects.
_TIMED_OUT = ("did not answer in time", "took too long")
# Refusals that a retry in a second cannot change (a month's budget, a missing or refused key): told to the
# SDKs with the header they obey, so that their two automatic retries neither wait nor call upstream again.
_FINAL = frozenset({Code.QUOTA_EXCEEDED, Code.NO_API_KEY, Code.UPSTREAM_AUTH})


class ApiError(Exception):
    """A refusal of an API call: its status, code and message, and a Retry-After when there is one."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> dict:
        kind = _TYPES.get(self.status, "server_error" if self.status >= 500 else "invalid_request_error")
        return {"error": {"message": self.message, "type": kind, "code": self.code}}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        if self.code in _FINAL:
            response["x-should-retry"] = "false"
        return response


def bad_request(message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, code, message)


def of_refused(refused: Refused) -> ApiError:
    """The API's answer to what the chat would answer with an error frame."""
    status = _STATUSES.get(refused.code, 400)
    retry = refused.extra.get("retry_after")
    if refused.code == Code.QUOTA_EXCEEDED:
        retry = seconds_until(refused.extra.get("resets"))
    return ApiError(status, str(refused.code), refused.message, retry)


def of_upstream(code: str, message: str) -> ApiError:
    """A failed upstream call (chat/upstream/client.py's codes) as a 4xx or 5xx."""
    try:
        status = _STATUSES.get(Code(code), 502)
    except ValueError:
        status = 502
    if code == Code.UPSTREAM_UNAVAILABLE and any(words in message for words in _TIMED_OUT):
        status = 504
    retry = 1 if code == Code.UPSTREAM_RATE_LIMITED else None
    return ApiError(status, code, message, retry)


def seconds_until(day: str | None) -> int:
    """Seconds until the start of that day (a budget's reset); at least 1."""
    try:
        date = dt.date.fromisoformat(day or "")
    except ValueError:
        return 3600
    start = dt.datetime.combine(date, dt.time.min, tzinfo=dt.UTC)  # budgets count months in UTC
    return max(1, math.ceil((start - timezone.now()).total_seconds()))
