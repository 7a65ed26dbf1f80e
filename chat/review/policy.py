"""Whether review is on, who may review, and the notice that tells users so."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop

REVIEW_PERMISSION = "chat.review_conversation"
REVIEWERS_GROUP = "Reviewers"
DEFAULT_NOTICE = gettext_noop(
    "Conversations on this site may be read by authorised reviewers for quality and policy; "
    "every reading is recorded."
)


def review_enabled() -> bool:
    return settings.TOKENOFF_REVIEW_ENABLED


def can_review(user) -> bool:
    """Holders of the review permission (superusers hold every permission), while review is on."""
    return review_enabled() and user.is_authenticated and user.is_active and user.has_perm(REVIEW_PERMISSION)


class ReviewNotice(models.Model):
    """The one editable notice the chat page shows while review is on (a single row, pk 1)."""

    text = models.CharField(
        max_length=300,
        default=DEFAULT_NOTICE,
        help_text="Shown on every chat page while review is on (TOKENOFF_REVIEW). Plain text, short.",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "review notice"
        verbose_name_plural = "review notice"

    def __str__(self) -> str:
        return self.text

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current_text(cls) -> str:
        """The notice to show, or "" while review is off; reading never writes the row."""
        if not review_enabled():
            return ""
        text = (cls.objects.filter(pk=1).values_list("text", flat=True).first() or "").strip()
        # The default speaks the reader's language; a text an admin wrote is shown as written.
        return text if text and text != DEFAULT_NOTICE else gettext(DEFAULT_NOTICE)
