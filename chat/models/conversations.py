"""Conversations and their messages."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.attachments import parts, pinned
from chat.conversations import context
from chat.models.catalogue import ChatModel
from chat.models.projects import ProjectShare


class ConversationQuerySet(models.QuerySet):
    def owned_by(self, user) -> ConversationQuerySet:
        # One the owner deleted while it was flagged is gone for them: only review still sees it.
        return self.filter(owner=user, owner_deleted__isnull=True)

    def reachable_by(self, user, write: bool = False) -> ConversationQuerySet:
        """The one access rule for reading and continuing: one's own, those in one's own projects, and
        those in a project shared with one's group (to read; to continue, as collaborators)."""
        roles = [ProjectShare.Role.COLLABORATOR] if write else list(ProjectShare.Role)
        shared = ProjectShare.objects.filter(group__user=user, role__in=roles).values("project_id")
        reach = Q(owner=user) | Q(project__owner=user) | Q(project_id__in=shared)
        return self.filter(reach, owner_deleted__isnull=True)


Window = tuple[int | None, int | None]  # a model's context window and maximum output, in tokens


@dataclass(frozen=True)
class Asking:
    """A question about to be saved: its text, and the message it will follow (None: the first)."""

    ID = 2**62  # its place in the fitting: after every saved message (ids grow along a branch)

    content: str
    after: int | None


class Conversation(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=100)
    system_prompt = models.TextField(blank=True, help_text="Sent first, before the messages.")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now, help_text="Last activity")
    pinned = models.BooleanField(default=False, help_text="Kept at the top of the owner's list")
    archived = models.BooleanField(default=False, help_text="Out of the owner's list, still searchable")
    # The last message of the branch on show: edits and regenerations fork the thread
    # (chat/conversations/branches.py).
    leaf = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner_deleted = models.DateTimeField(
        null=True, blank=True, help_text="Deleted by its owner while flagged: kept for review until resolved"
    )
    # What the member chose for this conversation, only the keys they set (chat/conversations/parameters.py).
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the member chose for this conversation: temperature, reasoning_effort, max_tokens",
    )
    # Where it came from: the chat, or a script's call to /api/v1/ with one of the member's tokens. The
    # token's name is copied: the conversation still says which script it was after the token is deleted.
    source = models.CharField(
        max_length=8, choices=[("chat", "chat"), ("api", "API")], default="chat", db_default="chat"
    )
    api_token = models.ForeignKey(
        "chat.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    api_token_name = models.CharField(max_length=100, blank=True)
    # Where an import brought it from ("chatgpt:<id>", "tokenoff:<id>"): a re-run adds nothing twice.
    imported_from = models.CharField(
        max_length=120, blank=True, default="", help_text="Where it was imported from, e.g. chatgpt:<id>"
    )
    # The assistant it started from; the name is copied so usage and review still say which after a delete.
    assistant = models.ForeignKey(
        "chat.Assistant", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    assistant_name = models.CharField(max_length=100, blank=True)
    # The owner's folder for it (chat/models/projects.py): deleting the project moves its chats out.
    project = models.ForeignKey(
        "chat.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-updated", "-id"]
        indexes = [
            # The sidebar: one user's pinned, then the rest by last activity, archived apart.
            models.Index(
                fields=["owner", "archived", "pinned", "-updated", "-id"], name="conversation_sidebar"
            ),
            # Review lists every conversation by last activity, and retention finds the old ones.
            models.Index(fields=["-updated", "-id"], name="conversation_activity"),
        ]
        permissions = [("review_conversation", "Can review every user's conversations")]
        constraints = [
            # A re-run of an import adds nothing twice (chat/imports/saving.py).
            models.UniqueConstraint(
                fields=["owner", "imported_from"],
                condition=~Q(imported_from=""),
                name="one_import_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"

    @staticmethod
    def title_from(text: str, words: int = 8, limit: int = 80) -> str:
        """A first title: the first words of the question, until a better one is set."""
        title = " ".join(text.split()[:words])
        return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"

    def upstream_messages(self, limits: Window | None = None, fresh=False, attached=True) -> list[dict]:
        """The branch on show, to send upstream: the system prompt, then oldest first, without the reply;
        the oldest turns after the first exchange left out when the model's window would overflow."""
        return self.fitted_context(limits, fresh, attached).messages

    def fitted_context(
        self, limits: Window | None = None, fresh=False, attached=True, asking: Asking | None = None
    ) -> context.Fitted:
        """What of the branch goes upstream (chat/conversations/context.py), and where it starts.

        `limits`: the model's context window and maximum output when the caller has its row already;
        `fresh`: the conversation was created in this transaction, so it has no summary yet, and with
        `attached` false, no attachment either. `asking`: a question not saved yet, fitted as it will be
        once saved (a send's request goes out while its rows are written: chat/realtime/store.py)."""
        if asking is None:
            path = branch(self)
        elif asking.after is None or self.pk is None:
            path = []
        else:
            path = branch(self, leaf=asking.after)
        rows = [
            {"id": m.pk, "role": m.role, "content": m.content}
            for m in path
            if m.status != Message.Status.STREAMING
        ]
        rows = [row for row in rows if row["content"] or row["role"] == Message.Role.USER]
        if limits is None:
            fields = ("context_window", "max_output_tokens")
            model = ChatModel.objects.filter(name=self.model).only(*fields).first()
            limits = (model.context_window, model.max_output_tokens) if model else (None, None)
        window, max_output = limits
        room = parts.document_room(window)
        asked = [row["id"] for row in rows if row["role"] == Message.Role.USER]
        links = _attachment_links(asked) if attached or not fresh else {}
        for row in rows:
            if row["id"] in links:
                row["attachments"] = links[row["id"]]
                row["attachment_tokens"] = parts.tokens_of(row["attachments"], room)
        # The summary furthest along the branch: ids grow from a message to its replies.
        summary = None
        if not fresh:
            summary = (
                self.summaries.filter(until_id__in=[row["id"] for row in rows]).order_by("-until_id").first()
            )
        summarised = summary.as_state() if summary else None
        if asking is not None:  # after the saved rows' attachments and summary: it has neither yet
            rows.append({"id": Asking.ID, "role": Message.Role.USER, "content": asking.content})

        def render(row: dict) -> list[dict]:
            return parts.content(row["content"], row["attachments"], room)

        bounds = context.Limits(self.model, window, max_output)
        return context.fit(rows, self.sent_system_prompt(), bounds, summarised, render)

    def sent_system_prompt(self) -> str:
        """The system prompt sent upstream: its project's current instructions and pinned documents first,
        then its own, then the documents pinned to the assistant it started from."""
        project = self.project if self.project_id else None
        assistant = self.assistant if self.assistant_id else None
        pieces = (
            project.instructions.strip() if project else "",
            pinned.text(project.files.all()) if project else "",
            self.system_prompt,
            pinned.text(assistant.files.all()) if assistant else "",
        )
        return "\n\n".join(piece for piece in pieces if piece)


class Message(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system"
        USER = "user"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        STREAMING = "streaming"
        DONE = "done"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The message this one follows; siblings (same parent) are the versions an edit or a
    # regeneration made. None for the first message of a conversation (and its edits).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    model = models.CharField("model asked for", max_length=100, blank=True)
    served_model = models.CharField("model served", max_length=100, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    usage = models.JSONField(null=True, blank=True)
    usage_estimated = models.BooleanField(default=False, help_text="The upstream gave no count: estimated")
    # The counts again as columns, so that reports add them up in SQL on any database.
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    # What the upstream said of them, when it did: input read from its prompt cache, output spent thinking.
    cached_tokens = models.PositiveIntegerField(null=True, blank=True)
    reasoning_tokens = models.PositiveIntegerField(null=True, blank=True)
    # What the reply was sent with (the conversation's choices after the model's table): a reply only.
    parameters = models.JSONField(
        null=True, blank=True, help_text="What the reply was sent with, after the model's table"
    )
    cost = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    via_team_key = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    last_seq = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    # Why a failed reply failed, in our words (English; the page translates by error_code).
    error_message = models.CharField(max_length=300, blank=True)
    # Which process runs a streaming reply (its channel name) and when it last said so: how a
    # reply left behind by a dead process is told from a live one on another process.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            # One reply in flight per conversation, enforced by the database across processes.
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(status="streaming"), name="one_reply_in_flight"
            )
        ]
        indexes = [models.Index(fields=["status"], condition=Q(status="streaming"), name="streaming_replies")]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}"

    def as_export(self) -> dict:
        return {
            "id": self.pk,
            "parent": self.parent_id,
            "role": self.role,
            "content": self.content,
            "model": self.model,
            "served_model": self.served_model or None,
            "finish_reason": self.finish_reason or None,
            "usage": self.usage,
            "created": self.created.isoformat(),
            # Prefetched by the exports (chat/conversations/exports.py): no query per message.
            "attachments": [
                {
                    "id": link.attachment.pk,
                    "name": link.attachment.name,
                    "kind": link.attachment.kind,
                    "size": link.attachment.size,
                }
                for link in self.attachment_links.all()
            ],
        }


class Summary(models.Model):
    """A summary of a branch's earlier messages, sent upstream in their place (chat/conversations/context.py):
    the originals stay in the history, the page and review."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="summaries")
    # The last message it covers: it applies to the branches through it, in place of what precedes it
    # after the first exchange (a summary before it included).
    until = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    content = models.TextField()
    covered = models.PositiveIntegerField(help_text="How many messages it stands in for")
    model = models.CharField("written by", max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"summary #{self.pk}"

    def as_state(self) -> dict:
        return {"id": self.pk, "content": self.content, "covered": self.covered, "until": self.until_id}


def _attachment_links(message_ids: list[int]) -> dict[int, list]:
    """The attachments these messages carry, in order, each link with its attachment: one query."""
    if not message_ids:
        return {}
    link_model = Message._meta.get_field("attachment_links").related_model  # chat/models/attachments.py
    found: dict[int, list] = {}
    for link in link_model.objects.filter(message_id__in=message_ids).select_related("attachment"):
        found.setdefault(link.message_id, []).append(link)
    return found


# The branch logic lives with the models so that they need nothing from chat.conversations;
# chat/conversations/branches.py holds the rest (versions, picking a branch, the page's state).
def _by_id(conversation: Conversation, messages=None) -> dict[int, Message]:
    rows = messages if messages is not None else conversation.messages.order_by("id")
    return {message.pk: message for message in rows}


def branch(conversation: Conversation, messages=None, leaf: int | None = None) -> list[Message]:
    """The branch on show, oldest first: from the root to the leaf (the newest message without one);
    with `leaf`, the branch that ends there."""
    by_id = _by_id(conversation, messages)
    leaf = conversation.leaf_id if leaf is None else leaf
    current = leaf if leaf in by_id else max(by_id, default=None)
    path: list[Message] = []
    while current is not None and current in by_id and len(path) <= len(by_id):  # a cycle cannot loop
        path.append(by_id[current])
        current = by_id[current].parent_id
    path.reverse()
    return path
