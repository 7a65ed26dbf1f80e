"""Feedback on replies: a thumbs up or down with an optional comment, given by the conversation's owner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.conversations import Conversation, Message


class Feedback(models.Model):
    """One person's rating of one reply; issue #4 adds the buttons, review filters on it already."""

    class Rating(models.IntegerChoices):
        UP = 1, _("Thumbs up")
        DOWN = -1, _("Thumbs down")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    rating = models.SmallIntegerField(choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="one_feedback_per_user_and_reply"),
            models.CheckConstraint(condition=Q(rating__in=[1, -1]), name="feedback_is_up_or_down"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on reply #{self.message_id}"

    @property
    def is_down(self) -> bool:
        return self.rating == self.Rating.DOWN

    @classmethod
    def give(cls, user, message_id: int, rating: int, comment: str = "") -> Feedback:
        """Set or replace the owner's rating of a finished reply; another's reply is Message.DoesNotExist."""
        if rating not in cls.Rating.values:
            raise ValueError("A rating is 1 (thumbs up) or -1 (thumbs down).")
        message = Message.objects.get(
            pk=message_id,
            conversation__in=Conversation.objects.owned_by(user),
            role=Message.Role.ASSISTANT,
            status=Message.Status.DONE,
        )
        feedback, _ = cls.objects.update_or_create(
            message=message,
            user=user,
            defaults={"rating": rating, "comment": comment.strip(), "created": timezone.now()},
        )
        return feedback
