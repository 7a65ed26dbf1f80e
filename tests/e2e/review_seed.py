"""Data for the review browser tests, made inside the live site's own database (manage.py shell -c)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.review import data as review_data

REVIEWER = ("rita", "rita-live-password-1")
STAFF = ("sam", "sam-live-password-1")
PLAIN = ("carol", "carol-live-password-1")
SUPERUSER = ("ada", "ada-live-password-1")
HOSTILE = (
    '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> '
    '<svg onload="window.__pwned = 3"><circle r=5></circle></svg> [click](javascript:window.__pwned=4) '
    '<a href="javascript:window.__pwned=5">link</a> <iframe src="javascript:window.__pwned=6"></iframe> '
    "![pic](http://127.0.0.1:9/tracker.png)"
)
ANSWER = "Here is the plan:\n\n1. **Book** the venue\n2. Send invites\n\n```python\nprint('hello')\n```\n"


def seed() -> None:
    User = get_user_model()
    reviewer = User.objects.create_user(REVIEWER[0], password=REVIEWER[1])
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    User.objects.create_user(STAFF[0], password=STAFF[1], is_staff=True)
    User.objects.create_superuser(SUPERUSER[0], password=SUPERUSER[1])
    carol = User.objects.create_user(PLAIN[0], password=PLAIN[1])
    dave = User.objects.create_user("dave", password="dave-live-password-1")
    yesterday = review_data.yesterday_noon()
    review_data.conversation(
        carol,
        "Offsite planning",
        question="Plan our offsite",
        answer=ANSWER,
        model="gpt-4o",
        served="gpt-4o-2024-11-20",
        when=yesterday,
        rating=-1,
        comment="Forgot the budget",
    )
    review_data.conversation(dave, "Happy with this", model="gpt-4o", when=yesterday, rating=1)
    review_data.conversation(dave, "Down, other model", model="gpt-4.1", when=yesterday, rating=-1)
    review_data.conversation(
        carol, "Down, last week", model="gpt-4o", when=review_data.days_ago(8), rating=-1
    )
    review_data.conversation(
        dave,
        HOSTILE[:200],  # a title holds 200 characters
        question=HOSTILE,
        answer=HOSTILE,
        model="gpt-4o",
        finish="error",
        comment=HOSTILE,
        rating=-1,
    )
    for i in range(8):
        review_data.conversation(carol, f"Routine question {i}", when=review_data.days_ago(2 + i / 10))
