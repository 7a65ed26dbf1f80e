"""The chat app's models, one module per domain, all re-exported here: `from chat.models import X` works
everywhere and Django registers every model under the one app label `chat`."""

from chat.models.audit import AuditEntry
from chat.models.budgets import Budget, Spend
from chat.models.conversations import (
    ApiKey,
    ChatModel,
    Conversation,
    Message,
    ModelLimit,
    Preferences,
    SiteSettings,
    UnreadableKeys,
)
from chat.models.feedback import Feedback
from chat.models.flags import Flag
from chat.review.policy import ReviewNotice

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Budget",
    "ChatModel",
    "Conversation",
    "Feedback",
    "Flag",
    "Message",
    "ModelLimit",
    "Preferences",
    "ReviewNotice",
    "SiteSettings",
    "Spend",
    "UnreadableKeys",
]
