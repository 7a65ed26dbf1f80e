"""Files a member attached to their messages: the bytes in Django's storage, never in a row."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.conversations import Conversation, Message


def new_attachment_id() -> str:
    """An opaque id that cannot be guessed: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def stored_path(attachment: Attachment, filename: str) -> str:
    # The owner's folder and the random id, never the member's file name: no clash, no path trick.
    return f"attachments/{attachment.owner_id}/{attachment.pk}/{filename}"


class Attachment(models.Model):
    """One uploaded file: an image (re-encoded) or a document (its text extracted to a second file).

    Uploaded first (POST /api/attachments/), bound to a conversation when a message that carries it is
    sent; one never sent is swept after a day. Deleting the row deletes its files
    (chat/attachments/cleanup.py)."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("image")
        DOCUMENT = "document", _("document")

    id = models.CharField(primary_key=True, max_length=32, default=new_attachment_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments")
    # Set at the first send; the conversation's deletion (by its owner, retention or purge) takes it.
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(_("name"), max_length=255)  # as the member's file was named, for display
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    content_type = models.CharField(_("type"), max_length=100)  # what the content is, sniffed, not claimed
    size = models.PositiveBigIntegerField(_("size"), help_text="Bytes stored (the file, and its text)")
    uploaded_size = models.PositiveBigIntegerField(default=0, help_text="Bytes as uploaded")
    # The stored file: the re-encoded image, or the document as uploaded.
    file = models.FileField(upload_to=stored_path, max_length=300)
    # An image's small version for the transcript; a document's extracted text (UTF-8, with markers).
    thumbnail = models.FileField(upload_to=stored_path, max_length=300, blank=True)
    text = models.FileField(upload_to=stored_path, max_length=300, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True, help_text="Pages or sheets of a document")
    tokens = models.PositiveIntegerField(default=0, help_text="What it adds to a request, estimated")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name

    def as_json(self) -> dict:
        """What the upload answers and the page shows (no path, no owner)."""
        return {"id": self.pk, "name": self.name, "kind": self.kind, "size": self.size, "tokens": self.tokens}


class MessageAttachment(models.Model):
    """An attachment carried by a message, in the order the member gave them. An edit's new version of
    a question carries the same rows again, or others."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachment_links")
    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="message_links")
    position = models.PositiveSmallIntegerField(default=0)
    # A document longer than half the model's window: what the member chose to send ("" = all of it,
    # "first" = the first part that fits, or pages such as "1-5,9").
    excerpt = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "attachment"], name="attachment_once_per_message")
        ]

    def __str__(self) -> str:
        return f"attachment {self.attachment_id} of message {self.message_id}"
