"""One conversation of a ChatGPT export: its `mapping` tree becomes our branches (Message.parent), the
`current_node` path the branch on show. Tool calls, hidden system messages and non-text parts are left out;
a message left out hands its place in the tree to its children."""

from __future__ import annotations

from collections import deque

from chat.imports.parsed import Item, Parsed, Skip, epoch, text

ROLES = {"user", "assistant", "system"}
TEXT_TYPES = {"text", "multimodal_text"}


def _content(message: dict) -> tuple[str, int]:
    """The message's text, and how many of its parts were not text (images, files, audio)."""
    content = message.get("content") or {}
    if not isinstance(content, dict) or content.get("content_type") not in TEXT_TYPES:
        return "", 0
    parts = content.get("parts") or []
    if not isinstance(parts, list):
        return "", 0
    texts = [part for part in parts if isinstance(part, str)]
    others = sum(1 for part in parts if not isinstance(part, str))
    return "\n\n".join(texts).strip(), others


def _kept(message: dict | None) -> tuple[bool, int]:
    """Whether a node's message becomes one of ours, and how many non-text parts it had."""
    if not isinstance(message, dict):
        return False, 0
    author = message.get("author") or {}
    role = author.get("role") if isinstance(author, dict) else None
    metadata = message.get("metadata") or {}
    if role not in ROLES or message.get("recipient", "all") not in ("all", None):
        return False, 0
    if isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation"):
        return False, 0
    body, others = _content(message)
    if not body:
        return False, others
    return True, others


def _ordered(mapping: dict) -> list[str]:
    """The nodes parents first; a missing parent or a loop makes the tree unusable."""
    children: dict[str | None, list[str]] = {}
    for key, node in mapping.items():
        if not isinstance(node, dict):
            raise Skip("malformed tree: a node is not an object")
        parent = node.get("parent")
        if parent is not None and parent not in mapping:
            raise Skip(f"malformed tree: the parent {str(parent)[:40]} of a message is missing")
        children.setdefault(parent, []).append(key)
    order: list[str] = []
    queue = deque(children.get(None, []))
    while queue:
        key = queue.popleft()
        order.append(key)
        queue.extend(children.get(key, []))
    if len(order) != len(mapping):
        raise Skip("malformed tree: its messages form a loop")
    return order


def parse(raw: dict, limit: int) -> Parsed:
    """A ChatGPT conversation in our terms, or Skip with the reason."""
    if not isinstance(raw, dict):
        raise Skip("not a conversation object")
    ident = raw.get("conversation_id") or raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise Skip("the conversation has no id")
    mapping = raw.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        raise Skip("the conversation has no messages")
    created = epoch(raw.get("create_time"))
    anchor: dict[str, str | None] = {}  # node -> the nearest kept message at or above it
    items: list[Item] = []
    left_out = 0
    for key in _ordered(mapping):
        node = mapping[key]
        parent = node.get("parent")
        above = anchor.get(parent) if parent is not None else None
        message = node.get("message")
        kept, others = _kept(message)
        left_out += others
        if not kept:
            anchor[key] = above
            continue
        metadata = message.get("metadata") or {}
        role = message["author"]["role"]
        slug = metadata.get("model_slug") if isinstance(metadata, dict) and role == "assistant" else ""
        items.append(
            Item(
                key=key,
                parent=above,
                role=role,
                content=text(_content(message)[0], limit),
                created=epoch(message.get("create_time")) or created,
                model=text(slug, 100),
            )
        )
        anchor[key] = key
    if not items:
        raise Skip("no text messages")
    current = raw.get("current_node")
    leaf = anchor.get(current) if current in mapping else None
    leaf = leaf or items[-1].key
    by_key = {item.key: item for item in items}
    model = _model_on(by_key, leaf) or text(raw.get("default_model_slug"), 100)
    notes = [f"{left_out} image, file or audio parts left out"] if left_out else []
    return Parsed(
        source=f"chatgpt:{ident[:100]}",
        title=text(raw.get("title"), 200),
        created=created,
        updated=epoch(raw.get("update_time")) or created,
        model=model,
        items=items,
        leaf=leaf,
        notes=notes,
    )


def _model_on(by_key: dict[str, Item], leaf: str) -> str:
    """The model of the last reply on the branch on show."""
    key: str | None = leaf
    while key is not None:
        item = by_key[key]
        if item.model:
            return item.model
        key = item.parent
    return ""
