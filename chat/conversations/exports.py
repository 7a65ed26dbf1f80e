"""A conversation as JSON or Markdown, oldest message first."""

from __future__ import annotations

from chat.models import Conversation, Message

ROLE_HEADINGS = {"user": "You", "assistant": "Assistant", "system": "System"}


def as_json(conversation: Conversation, messages: list[Message]) -> dict:
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "created": conversation.created.isoformat(),
        "messages": [message.as_export() for message in messages],
    }


def as_markdown(conversation: Conversation, messages: list[Message], owner: str = "") -> str:
    """The conversation as Markdown; owner names whose it is (review exports hold several people's)."""
    by = f" by {owner}" if owner else ""
    lines = [
        f"# {conversation.title or 'Conversation'}",
        "",
        f"_Started {conversation.created:%Y-%m-%d %H:%M} UTC{by}_",
        "",
    ]
    for message in messages:
        heading = ROLE_HEADINGS.get(message.role, message.role)
        details = [message.served_model or message.model]
        if message.role == "assistant" and message.finish_reason and message.finish_reason != "stop":
            details.append(message.finish_reason)
        if message.usage and message.usage.get("total_tokens") is not None:
            details.append(f"{message.usage['total_tokens']} tokens")
        suffix = f" ({', '.join(d for d in details if d)})" if any(details) else ""
        lines += [f"## {heading}{suffix}", "", message.content, ""]
    return "\n".join(lines).rstrip() + "\n"
