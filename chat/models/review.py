"""The notice the chat page shows while review is on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

DEFAULT_NOTICE = gettext_noop(
    "Conversations on this site may be read by authorised reviewers for quality and policy; "
    "every reading is recorded."
)


class ReviewNotice(models.Model):
    """The one editable notice the chat page shows while review is on (a single row, pk 1)."""

    text = models.CharField(
        max_length=300,
        default=DEFAULT_NOTICE,
        help_text=_("Shown on every chat page while review is on (TOKENOFF_REVIEW). Plain text, short."),
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review notice")
        verbose_name_plural = _("review notice")

    def __str__(self) -> str:
        return self.text

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current_text(cls) -> str:
        """The notice to show, or "" while review is off; reading never writes the row."""
        # The setting review.policy.review_enabled reads: models import nothing of the rooms above them.
        if not settings.TOKENOFF_REVIEW_ENABLED:
            return ""
        text = (cls.objects.filter(pk=1).values_list("text", flat=True).first() or "").strip()
        # The default speaks the reader's language; a text an admin wrote is shown as written.
        return text if text and text != DEFAULT_NOTICE else gettext(DEFAULT_NOTICE)
