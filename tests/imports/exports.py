"""Generated ChatGPT exports, shaped as the real ones are: a list of conversations, each a `mapping` tree of
nodes {id, message, parent, children} under a message-less root, with `current_node` the leaf on show."""

from __future__ import annotations

import io
import json
import zipfile

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def node(key: str, parent: str | None, role: str | None, text: str = "", **extra) -> dict:
    """A node of the tree; role None is the root (no message)."""
    message = None
    if role is not None:
        message = {
            "id": key,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": extra.pop("at", T0),
            "content": extra.pop("content", {"content_type": "text", "parts": [text]}),
            "status": "finished_successfully",
            "metadata": extra.pop("metadata", {}),
            "recipient": extra.pop("recipient", "all"),
        }
    return {"id": key, "message": message, "parent": parent, "children": []}


def conversation(ident: str, title: str, nodes: list[dict], current: str, **extra) -> dict:
    mapping = {n["id"]: n for n in nodes}
    for n in nodes:
        if n["parent"] in mapping:
            mapping[n["parent"]]["children"].append(n["id"])
    return {
        "title": title,
        "create_time": extra.get("created", T0),
        "update_time": extra.get("updated", T0 + 600),
        "mapping": mapping,
        "current_node": current,
        "conversation_id": ident,
        "id": ident,
        "default_model_slug": extra.get("default_model", "gpt-4o"),
    }


def branched(ident: str = "c-branched") -> dict:
    """A question edited once (two versions of it), each answered; the edit's answer regenerated once.
    On show: the edit, then its second answer. A hidden system node and a tool call are left out."""
    answered = {"model_slug": "gpt-4o"}
    nodes = [
        node("root", None, None),
        node("sys", "root", "system", "", metadata={"is_visually_hidden_from_conversation": True}),
        node("q1", "sys", "user", "What is a monad?", at=T0 + 10),
        node(
            "a1",
            "q1",
            "assistant",
            "A monoid in the category of endofunctors.",
            at=T0 + 20,
            metadata=answered,
        ),
        node("q1b", "sys", "user", "What is a monad, simply?", at=T0 + 30),
        node("tool", "q1b", "assistant", "search('monad')", at=T0 + 35, recipient="browser"),
        node("a2", "tool", "assistant", "A box with a way to chain steps.", at=T0 + 40, metadata=answered),
        node("a3", "tool", "assistant", "A pattern for chaining.", at=T0 + 50, metadata={"model_slug": "o3"}),
    ]
    return conversation(ident, "Monads", nodes, current="a3")


def simple(ident: str, title: str = "", words: str = "Hello there", model: str = "gpt-4o-mini") -> dict:
    nodes = [
        node("root", None, None),
        node("u", "root", "user", words, at=T0 + 1),
        node("a", "u", "assistant", f"Answer to {words}", at=T0 + 2, metadata={"model_slug": model}),
    ]
    return conversation(ident, title, nodes, current="a")


def as_json(conversations: list[dict]) -> bytes:
    return json.dumps(conversations).encode()


def as_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("chat.html", b"<html>the export's viewer</html>")
    return buffer.getvalue()
