"""Whether review is on and who may review; the notice that tells users so is chat.models.ReviewNotice."""

from __future__ import annotations

from django.conf import settings

REVIEW_PERMISSION = "chat.review_conversation"
REVIEWERS_GROUP = "Reviewers"


def review_enabled() -> bool:
    return settings.TOKENOFF_REVIEW_ENABLED


def can_review(user) -> bool:
    """Holders of the review permission (superusers hold every permission), while review is on."""
    return review_enabled() and user.is_authenticated and user.is_active and user.has_perm(REVIEW_PERMISSION)
