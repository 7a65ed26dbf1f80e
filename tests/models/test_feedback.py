"""Feedback on replies (chat/models/feedback.py): the owner's thumbs up or down, one per reply."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from chat.models import Message
from chat.models.feedback import Feedback
from tests.review import data as review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(alice):
    return review_data.conversation(alice).messages.get(role="assistant")


def test_the_owner_rates_a_reply_and_can_change_it(alice, reply):
    Feedback.give(alice, reply.pk, -1, "  wrong answer ")
    Feedback.give(alice, reply.pk, 1)
    (feedback,) = Feedback.objects.all()
    assert (feedback.rating, feedback.comment, feedback.user) == (1, "", alice)


def test_nobody_else_rates_it_and_a_question_is_not_rated(alice, bob, reply):
    with pytest.raises(Message.DoesNotExist):
        Feedback.give(bob, reply.pk, -1)
    question = reply.conversation.messages.get(role="user")
    with pytest.raises(Message.DoesNotExist):
        Feedback.give(alice, question.pk, -1)
    assert not Feedback.objects.exists()


def test_a_rating_is_up_or_down(alice, reply):
    with pytest.raises(ValueError, match="thumbs"):
        Feedback.give(alice, reply.pk, 5)
    with pytest.raises(IntegrityError):
        Feedback.objects.create(message=reply, user=alice, rating=3)
