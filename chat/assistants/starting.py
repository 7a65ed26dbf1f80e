"""Starting a new conversation from an assistant: which one the member may use, and what it sets."""

from __future__ import annotations

from chat.conversations import parameters
from chat.models import Assistant, ChatModel
from chat.realtime.frames import Code, Refused


def usable(user, assistant_id: int) -> Assistant:
    """The assistant if this member may start a chat from it; not_found otherwise (as for another's)."""
    assistant = Assistant.objects.visible_to(user).filter(pk=assistant_id, retired=False).first()
    if assistant is None:
        raise Refused(Code.NOT_FOUND, "No such assistant.")
    return assistant


def settings_of(assistant: Assistant) -> tuple[str, str, dict]:
    """Its model, system prompt and parameters; the parameters as the model takes them, since a model
    moved to a replacement (chat/admin/catalogue.py) may not take every choice the old one did."""
    model = ChatModel.objects.filter(name=assistant.model).first()
    chosen = parameters.effective(model, assistant.parameters) if model else {}
    return assistant.model, assistant.system_prompt, chosen
