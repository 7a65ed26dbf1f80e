"""One conversation of our own export.json (chat/conversations/exports.py as_json): its messages and their
parents come back as they were; the newest message is the branch on show."""

from __future__ import annotations

from chat.imports.parsed import Item, Parsed, Skip, iso, text

ROLES = {"user", "assistant", "system"}


def parse(raw: dict, limit: int) -> Parsed:
    """Our exported conversation in import terms, or Skip with the reason."""
    if not isinstance(raw, dict):
        raise Skip("not a conversation object")
    ident = raw.get("id")
    messages = raw.get("messages")
    if isinstance(ident, bool) or not isinstance(ident, int | str) or ident == "":
        raise Skip("the conversation has no id")
    if not isinstance(messages, list) or not messages:
        raise Skip("the conversation has no messages")
    items: list[Item] = []
    seen: set[str] = set()
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise Skip("malformed message: no role user, assistant or system")
        key, parent = str(message.get("id")), message.get("parent")
        parent = None if parent is None else str(parent)
        # The export lists messages oldest first, each after the one it follows: anything else is no tree.
        if parent is not None and parent not in seen:
            raise Skip(f"malformed tree: the parent {parent[:40]} of a message is missing")
        if key in seen:
            raise Skip("malformed tree: a message id appears twice")
        seen.add(key)
        usage = message.get("usage")
        items.append(
            Item(
                key=key,
                parent=parent,
                role=message["role"],
                content=text(message.get("content"), limit),
                created=iso(message.get("created")),
                model=text(message.get("model"), 100),
                served_model=text(message.get("served_model"), 100),
                finish_reason=text(message.get("finish_reason"), 32),
                usage=usage if isinstance(usage, dict) else None,
            )
        )
    attachments = sum(len(m.get("attachments") or []) for m in messages if isinstance(m, dict))
    created = iso(raw.get("created"))
    parameters = raw.get("parameters")
    return Parsed(
        source=f"tokenoff:{str(ident)[:100]}",
        title=text(raw.get("title"), 200),
        created=created,
        updated=max((item.created for item in items if item.created), default=created),
        model=next((item.model for item in reversed(items) if item.model), ""),
        items=items,
        leaf=items[-1].key,
        parameters=parameters if isinstance(parameters, dict) else {},
        notes=[f"{attachments} attachments left out (files are not in export.json)"] if attachments else [],
    )
