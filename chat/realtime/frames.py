"""Every frame of the socket (docs/protocol.md), defined once.

Client frames are msgspec Structs in one tagged union: decoding checks their shape, and `decode` adds
what a type cannot say (sizes, NUL bytes, ids past the database's range, fields that go together).
Server frames are built by one function each, so a `done` or an `error` has the same fields wherever
it is sent from. Error codes are one enum.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import msgspec
import orjson
from django.conf import settings

from chat.attachments.parts import valid_excerpt
from chat.lib.params import MAX_ID  # past it an id names nothing: not_found, never a database error

MAX_CLIENT_ID = 64
# orjson, which read frames before msgspec, took integers past 64 bits for floats: still bad_request.
MAX_JSON_INT = 2**64 - 1
MAX_PARAMETERS = 16  # a new chat's parameters: a handful of names, each a short value
MAX_PARAMETER_TEXT = 64
MAX_ATTACHMENT_ID = 32  # Attachment.id's column
MAX_EXCERPT = 100  # MessageAttachment.excerpt's column


class Code(enum.StrEnum):
    """The `code` of an `error` frame."""

    BAD_REQUEST = "bad_request"
    TOO_LARGE = "too_large"
    NOT_FOUND = "not_found"
    BUSY = "busy"
    MODEL_UNAVAILABLE = "model_unavailable"
    NO_API_KEY = "no_api_key"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    UPSTREAM_AUTH = "upstream_auth"
    UPSTREAM_RATE_LIMITED = "upstream_rate_limited"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    UPSTREAM_ERROR = "upstream_error"
    CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"  # (extension) the upstream's 400 of that code
    UNSUPPORTED_PARAMETER = "unsupported_parameter"  # (extension) a 400 for a parameter or its value
    ATTACHMENT_UNSUPPORTED = "attachment_unsupported"  # an image for a model without vision
    INTERNAL_ERROR = "internal_error"


class FinishReason(enum.StrEnum):
    """Our own values of `done.finish_reason`; the upstream's (`stop`, `length`, …) pass through."""

    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class Refused(Exception):
    """A frame or an action the protocol answers with an `error` frame; the socket stays open."""

    def __init__(self, code: Code | str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message
        self.extra = extra


class BadFrame(Refused):
    """A frame the protocol does not accept; `echo` is what the answer may repeat of it."""

    def __init__(self, code: Code | str, message: str, echo: dict | None = None, **extra: Any) -> None:
        super().__init__(code, message, **extra)
        self.echo = echo or {}


# Client frames --------------------------------------------------------------------------------

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CLIENT_ID)]
Id = Annotated[int, msgspec.Meta(ge=1)]


class ClientFrame(msgspec.Struct, tag_field="type", frozen=True):
    """A frame from the browser; fields it does not know are ignored (the protocol grows by adding)."""


class AttachmentChoice(msgspec.Struct, frozen=True):
    """(extension) an attachment with the part of a long document to send: "first", or pages "1-5,9"."""

    id: str
    excerpt: str = ""


class Send(ClientFrame, tag="send"):
    id: ClientId
    conversation: Id | None
    content: str
    model: str | None = None
    system_prompt: str | None = None  # (extension) a new conversation's system prompt
    # (extension) a new conversation's parameters (chat/conversations/parameters.py checks the values)
    parameters: dict[str, str | int | float | None] | None = None
    edit: Id | None = None  # (extension) a new version of this user message
    # The sender's attachment ids, or (extension) choices of a long document's part; on an edit, None
    # keeps the edited question's attachments and a list (even empty) replaces them.
    attachments: list[str | AttachmentChoice] | None = None
    project: Id | None = None  # (extension) the project a new conversation starts in
    # (extension) a new conversation starts from this assistant: its model, system prompt and parameters
    assistant: Id | None = None

    def attachment_choices(self) -> list[AttachmentChoice] | None:
        """The attachments as choices (an id alone sends all of it), or None when not given."""
        if self.attachments is None:
            return None
        return [AttachmentChoice(item) if isinstance(item, str) else item for item in self.attachments]


class Regenerate(ClientFrame, tag="regenerate"):
    """(extension) a new version of the reply `message`, to the same question."""

    id: ClientId
    conversation: Id
    message: Id
    model: str | None = None


class Stop(ClientFrame, tag="stop"):
    conversation: Id


class Attach(ClientFrame, tag="attach"):
    conversation: Id


_decoder = msgspec.json.Decoder(Send | Regenerate | Stop | Attach)

# What a person reads when a field is wrong (msgspec's own words name JSON paths).
_FIELD_WORDS = {
    "id": f"id must be a string of 1 to {MAX_CLIENT_ID} characters.",
    "conversation": "conversation must be a conversation id.",
    "content": "content must be some text.",
    "model": "model must be a model name.",
    "system_prompt": "system_prompt must be text without NUL characters.",
    "parameters": "parameters must be an object of names and short values (text, numbers or null).",
    "edit": "edit must be a message id.",
    "message": "message must be the id of the reply to write again.",
    "project": "project must be a project id.",
    "assistant": "assistant must be an assistant id.",
    "attachments": 'attachments must be a list of attachment ids, or of {"id", "excerpt"} objects.',
}
_IDS = ("conversation", "edit", "message", "project", "assistant")


def decode(text: str | None, max_content: int) -> ClientFrame:
    """A checked client frame, or BadFrame with the code and the words to answer."""
    if text is None:
        raise BadFrame(Code.BAD_REQUEST, "Frames are JSON text.")
    # Checked before parsing: the worst case of JSON escaping is six characters for one.
    if len(text) > max_content * 6 + 4096:
        raise BadFrame(Code.TOO_LARGE, f"A message can hold at most {max_content:,} characters.")
    try:
        frame = _decoder.decode(text)
    except msgspec.ValidationError as invalid:
        raise _invalid(text, str(invalid)) from None
    except msgspec.DecodeError:
        raise BadFrame(Code.BAD_REQUEST, "The frame is not JSON.") from None
    _check(frame, max_content)
    return frame


def peek(text: str | None) -> dict:
    """What an answer may repeat of a frame not decoded (a flood's warning, say): best effort."""
    raw = _lenient(text) if text is not None and len(text) < 1_000_000 else None
    return raw if isinstance(raw, dict) else {}


def kind_of(frame: ClientFrame) -> str:
    return frame.__struct_config__.tag


def _invalid(text: str, reason: str) -> BadFrame:
    raw = _lenient(text)
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return BadFrame(Code.BAD_REQUEST, "A frame is a JSON object with a type.")
    if reason.endswith("`$.type`"):
        return BadFrame(Code.BAD_REQUEST, f"Unknown frame type {raw['type'][:40]!r}.", raw)
    if "`$.attachments" in reason:
        field = "attachments"
    elif "missing required field" in reason:
        field = reason.partition("`")[2].partition("`")[0]
    else:
        field = reason.rpartition("`$.")[2].rstrip("`").split(".")[0].split("[")[0]
    if field in _IDS and _past_range(raw.get(field)):
        return _not_found(field, raw)
    words = _FIELD_WORDS.get(field, "The frame has a missing or wrong field.")
    if field == "conversation" and raw["type"] == "send":
        words = "conversation must be a conversation id or null."
    return BadFrame(Code.BAD_REQUEST, words, raw)


def _lenient(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _past_range(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and MAX_ID < value <= MAX_JSON_INT


def _not_found(field: str, echo: dict) -> BadFrame:
    what = field if field in ("conversation", "project", "assistant") else "message in this conversation"
    return BadFrame(Code.NOT_FOUND, f"No such {what}.", echo)


def _check(frame: ClientFrame, max_content: int) -> None:
    """What a type cannot say: ranges, sizes, NUL bytes, fields that go together."""
    echo = {"type": kind_of(frame), **msgspec.structs.asdict(frame)}
    for field in _IDS:
        value = getattr(frame, field, None)
        if value is not None and value > MAX_JSON_INT:
            raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS[field], echo)
        if _past_range(value):
            raise _not_found(field, echo)
    if isinstance(frame, Send | Regenerate):
        # NUL never reaches the database: PostgreSQL refuses it in text (SQLite would keep it).
        if "\x00" in frame.id:
            raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS["id"], echo | {"id": None})
        if frame.model is not None and (not frame.model.strip() or "\x00" in frame.model):
            raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS["model"], echo)
    if not isinstance(frame, Send):
        return
    if not frame.content.strip() and not frame.attachments:
        raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS["content"], echo)
    _check_attachments(frame, echo)
    if "\x00" in frame.content:
        raise BadFrame(Code.BAD_REQUEST, "content cannot hold NUL characters.", echo)
    if len(frame.content) > max_content:
        raise BadFrame(Code.TOO_LARGE, f"A message can hold at most {max_content:,} characters.", echo)
    if frame.edit is not None and frame.conversation is None:
        raise BadFrame(Code.BAD_REQUEST, "edit needs the conversation of the message edited.", echo)
    if frame.system_prompt is not None:
        if frame.conversation is not None:
            raise BadFrame(Code.BAD_REQUEST, "system_prompt is for a new conversation only.", echo)
        if "\x00" in frame.system_prompt:
            raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS["system_prompt"], echo)
        if len(frame.system_prompt) > max_content:
            words = f"A system prompt can hold at most {max_content:,} characters."
            raise BadFrame(Code.TOO_LARGE, words, echo)
    if frame.project is not None and frame.conversation is not None:
        raise BadFrame(Code.BAD_REQUEST, "project is for a new conversation only.", echo)
    if frame.assistant is not None and frame.conversation is not None:
        raise BadFrame(Code.BAD_REQUEST, "assistant is for a new conversation only.", echo)
    if frame.parameters is not None:
        if frame.conversation is not None:
            raise BadFrame(Code.BAD_REQUEST, "parameters are for a new conversation only.", echo)
        if not _short_values(frame.parameters):
            raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS["parameters"], echo)


def _check_attachments(frame: Send, echo: dict) -> None:
    """A few distinct ids, each short and without NUL; an excerpt is "first" or pages."""
    choices = frame.attachment_choices()
    if choices is None:
        return
    most = settings.TOKENOFF_ATTACHMENTS_PER_MESSAGE
    if len(choices) > most:
        raise BadFrame(Code.BAD_REQUEST, f"A message can carry at most {most} attachments.", echo)
    for choice in choices:
        if not 0 < len(choice.id) <= MAX_ATTACHMENT_ID or "\x00" in choice.id:
            raise BadFrame(Code.BAD_REQUEST, _FIELD_WORDS["attachments"], echo)
        if choice.excerpt and (len(choice.excerpt) > MAX_EXCERPT or not valid_excerpt(choice.excerpt)):
            words = 'An excerpt is "first" or pages such as "1-5,9".'
            raise BadFrame(Code.BAD_REQUEST, words, echo)
    if len({choice.id for choice in choices}) < len(choices):
        raise BadFrame(Code.BAD_REQUEST, "An attachment can go only once in a message.", echo)


def _short_values(parameters: dict) -> bool:
    """A few names, each with a short value: no NUL, no integer past what JSON numbers hold."""
    if len(parameters) > MAX_PARAMETERS:
        return False
    for name, value in parameters.items():
        if not 0 < len(name) <= MAX_PARAMETER_TEXT or "\x00" in name:
            return False
        if isinstance(value, str) and (len(value) > MAX_PARAMETER_TEXT or "\x00" in value):
            return False
        if isinstance(value, int) and not -MAX_JSON_INT <= value <= MAX_JSON_INT:
            return False
    return True


# Server frames --------------------------------------------------------------------------------


def encode(frame: dict) -> str:
    return orjson.dumps(frame).decode()


def usage_of(usage: dict | None) -> dict | None:
    """The protocol's three counts of a stored usage, or None; (extension) the upstream's details of
    them (`prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`) if given."""
    if not usage:
        return None
    counts = {name: usage.get(name) for name in ("prompt_tokens", "completion_tokens", "total_tokens")}
    for details in ("prompt_tokens_details", "completion_tokens_details"):
        if isinstance(usage.get(details), dict):
            counts[details] = usage[details]
    return counts


def started(
    client_id: str,
    conversation: int,
    title: str,
    user_message: int,
    message: int,
    model: str,
    content: str,
    fork: str | None = None,
    notice: str | None = None,
    budget: Any = None,
    parameters: dict | None = None,
    attachments: list[dict] | None = None,
) -> dict:
    """The user message is saved and the reply begins; `content`, `fork`, `notice`, `budget`, `parameters`
    (what the reply is sent with, as `done` says it) and `attachments` (the user message's, described:
    chat/attachments/parts.py) are extensions.

    `budget` (a usage standing: `share`, `resets`) goes with the notice, so that a page can say it in
    its own language.
    """
    frame = {
        "type": "started",
        "id": client_id,
        "conversation": conversation,
        "title": title,
        "user_message": user_message,
        "message": message,
        "model": model,
        "content": content,
        "parameters": parameters,
    }
    if attachments:
        frame["attachments"] = attachments
    if fork is not None:
        frame["fork"] = fork
    if notice:
        frame["notice"] = notice
    if budget is not None:
        frame["budget"] = {"share": round(budget.share, 4), "resets": budget.resets.isoformat()}
    return frame


def delta(conversation: int, message: int, seq: int, content: str) -> dict:
    return {"type": "delta", "conversation": conversation, "message": message, "seq": seq, "content": content}


def done(
    conversation: int,
    message: int,
    finish_reason: str,
    usage: dict | None,
    served_model: str | None,
    seq: int,
    length: int,
    parameters: dict | None = None,
) -> dict:
    """The end of a reply. `seq` and `length` (its characters) let a page tell it missed nothing;
    (extension) `parameters`: what the reply was sent with (temperature, reasoning_effort, max_tokens...)."""
    return {
        "type": "done",
        "conversation": conversation,
        "message": message,
        "finish_reason": finish_reason,
        "usage": usage_of(usage),
        "usage_estimated": bool(usage and usage.get("estimated")),
        "served_model": served_model or None,
        "seq": seq,
        "length": length,
        "parameters": parameters,
    }


def snapshot(conversation: int, message: int | None, content: str, seq: int, streaming: bool) -> dict:
    return {
        "type": "snapshot",
        "conversation": conversation,
        "message": message,
        "content": content,
        "seq": seq,
        "streaming": streaming,
    }


def idle_snapshot(conversation: int) -> dict:
    """The answer to an attach with nothing in flight."""
    return snapshot(conversation, None, "", 0, False)


def title(conversation: int, text: str) -> dict:
    return {"type": "conversation", "conversation": conversation, "title": text}


def error(
    code: Code | str,
    message: str,
    client_id: str | None = None,
    conversation: int | None = None,
    **extra: Any,
) -> dict:
    frame: dict = {"type": "error", "code": str(Code(code)), "message": message, **extra}
    if client_id is not None:
        frame["id"] = client_id
    if conversation is not None:
        frame["conversation"] = conversation
    return frame


def error_answering(refused: Refused, frame: ClientFrame | dict | None) -> dict:
    """The `error` for a refused frame: with its `id` (a send or a regenerate) and its conversation."""
    if isinstance(frame, ClientFrame):
        echo = {"type": kind_of(frame), **msgspec.structs.asdict(frame)}
    else:
        echo = frame or {}
    if isinstance(refused, BadFrame) and refused.echo:
        echo = refused.echo
    client_id = echo.get("id")
    if echo.get("type") not in ("send", "regenerate") or not _is_client_id(client_id):
        client_id = None
    conversation = echo.get("conversation")
    if refused.code == Code.BAD_REQUEST or not _is_id(conversation):
        conversation = None
    return error(refused.code, refused.message, client_id, conversation, **refused.extra)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_client_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_CLIENT_ID and "\x00" not in value
