"""The documents pinned to an assistant or a project, as the system message carries them: each named as
parts.py names a message's documents, the current files on every send.

No model is imported here (chat.models.conversations imports this module)."""

from __future__ import annotations

from chat.attachments import parts


def text(attachments) -> str:
    """The pinned documents' text, one after another, each after the line that names it; "" for none."""
    sections = []
    for attachment in attachments:
        if parts.is_image(attachment):  # only documents may be pinned (chat/attachments/pinning.py)
            continue
        body = parts.read_text(attachment)
        sections.append(parts.document_header(attachment, body, "") + body)
    return "\n\n".join(sections)
