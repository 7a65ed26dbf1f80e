"""The fake upstream's summaries: a request whose system message asks for a summary of a conversation
(the site's "Summarise earlier messages", chat/conversations/summaries.py) is answered recognisably."""

from __future__ import annotations

from chat.demo.directives import message_text

SUMMARY_WORDS = 24


def asks_for_a_summary(messages: list) -> bool:
    """A summary request: a first system message that asks to summarise."""
    first = messages[0] if messages else None
    return (
        isinstance(first, dict)
        and first.get("role") == "system"
        and "summarise" in message_text(first.get("content")).lower()
    )


def summary_for(text: str) -> str:
    """What a model would answer, recognisably the fake's: the first words of the transcript given."""
    words = text.split()
    shown = " ".join(words[:SUMMARY_WORDS]) + (" …" if len(words) > SUMMARY_WORDS else "")
    return f"Summary (fake upstream) of {len(words)} words: {shown}"
