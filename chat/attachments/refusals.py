"""Why an upload is refused: an HTTP status, a code the page can act on, and a sentence for the member."""

from __future__ import annotations

from django.http import JsonResponse


class Refused(Exception):
    """An upload that is not taken; nothing of it stays stored."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, str(message)

    def response(self) -> JsonResponse:
        return refusal(self.status, self.code, self.message)


def refusal(status: int, code: str, message: str) -> JsonResponse:
    """The contract's error body: {"error": {"code", "message"}}."""
    return JsonResponse({"error": {"code": code, "message": str(message)}}, status=status)
