"""The chat app's models, one module per domain, all re-exported here: `from chat.models import X` works
everywhere and Django registers every model under the one app label `chat`."""

from chat.models.api_tokens import ApiToken
from chat.models.assistants import Assistant, AssistantVersion
from chat.models.attachments import Attachment, MessageAttachment
from chat.models.audit import AuditEntry
from chat.models.budgets import Budget, Reservation, Spend
from chat.models.catalogue import ChatModel, ModelLimit
from chat.models.conversations import Conversation, Message
from chat.models.feedback import Feedback
from chat.models.flags import Flag
from chat.models.freshness import CacheVersion
from chat.models.imports import ImportJob
from chat.models.keys import ApiKey, UnreadableKeys
from chat.models.projects import Project, ProjectShare
from chat.models.review import ReviewNotice
from chat.models.sharing import ShareLink
from chat.models.site import Preferences, SiteSettings

__all__ = [
    "ApiKey",
    "ApiToken",
    "Assistant",
    "AssistantVersion",
    "Attachment",
    "AuditEntry",
    "Budget",
    "CacheVersion",
    "ChatModel",
    "Conversation",
    "Feedback",
    "Flag",
    "ImportJob",
    "Message",
    "MessageAttachment",
    "ModelLimit",
    "Preferences",
    "Project",
    "ProjectShare",
    "Reservation",
    "ReviewNotice",
    "ShareLink",
    "SiteSettings",
    "Spend",
    "UnreadableKeys",
]
