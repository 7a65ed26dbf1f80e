"""The send facts (chat/models/freshness.py): one query when nothing changed, the same rule as usable_by,
and no stale fact after a rolled-back change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from chat.models import ApiKey, Budget, ChatModel, ModelLimit, Preferences, SiteSettings, freshness
from chat.usage import accounting as usage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold():
    freshness.clear()


def test_the_stamp_is_the_only_query_when_nothing_changed(alice, team_key, django_assert_num_queries):
    Preferences.objects.create(user=alice, default_model=ChatModel.objects.get(name="o3"))
    alice.groups.add(Group.objects.create(name="Research"))
    ChatModel.for_send(alice, None)
    ApiKey.objects.for_user(alice)
    usage.standing(alice, via_team_key=True)
    with django_assert_num_queries(1):
        assert ChatModel.for_send(alice, None).name == "o3"
    with django_assert_num_queries(1):
        assert ChatModel.for_send(alice, "gpt-4.1").name == "gpt-4.1"
    with django_assert_num_queries(1):
        assert ApiKey.objects.for_user(alice).pk == team_key.pk
    with django_assert_num_queries(1):
        assert usage.standing(alice, via_team_key=True).over is None  # no budget: no spending read
    with django_assert_num_queries(1), freshness.snapshot():  # a whole send's reads: one stamp
        ChatModel.for_send(alice, None)
        ApiKey.objects.for_user(alice)
        usage.standing(alice, via_team_key=True)
        Preferences.of(alice, cached=True)


def test_what_a_send_gets_is_a_copy(alice, team_key):
    ChatModel.for_send(alice, "o3").max_output_tokens = 7  # begin shrinks it to its reservation
    assert ChatModel.for_send(alice, "o3").max_output_tokens != 7
    ApiKey.objects.for_user(alice).last4 = "oops"
    assert ApiKey.objects.for_user(alice).last4 == team_key.last4


def test_the_cached_rule_is_usable_by(alice, bob, django_user_model):
    carol = django_user_model.objects.create_user("carol")
    people = (alice, bob, carol)
    names = list(ChatModel.objects.values_list("name", flat=True))

    def agree() -> None:
        for user in people:
            usable = set(ChatModel.objects.usable_by(user).values_list("name", flat=True))
            assert {name for name in names if ChatModel.for_send(user, name)} == usable
            default = ChatModel.for_send(user, None)
            assert default.name in usable if usable else default is None

    def limit(group: Group, *allowed: str) -> None:
        ModelLimit.objects.create(group=group).allowed_models.set(ChatModel.objects.filter(name__in=allowed))

    agree()
    ChatModel.objects.filter(name="gpt-4o").update(enabled=False)
    research, interns, writers = (Group.objects.create(name=n) for n in ("Research", "Interns", "Writers"))
    research.user_set.add(alice)
    ChatModel.objects.get(name="o3").groups.add(research)
    ChatModel.objects.get(name="o4-mini").groups.add(writers)
    agree()
    interns.user_set.add(bob, carol)
    limit(interns, "o3", "o4-mini", "gpt-4o", "gpt-4.1-mini")
    agree()
    writers.user_set.add(carol)
    limit(writers, "gpt-4.1")
    agree()
    Group.objects.create(name="Everyone").user_set.add(carol)  # a group without a limit lifts them
    agree()
    ModelLimit.objects.get(group=interns).allowed_models.clear()
    agree()


def test_a_rolled_back_change_leaves_no_stale_fact(alice, team_key):
    assert ChatModel.for_send(alice, "o3") is not None
    with pytest.raises(RuntimeError), transaction.atomic():
        ChatModel.objects.filter(name="o3").update(enabled=False)
        assert ChatModel.for_send(alice, "o3") is None  # cached under the uncommitted stamp
        raise RuntimeError("rolled back")
    assert ChatModel.for_send(alice, "o3") is not None
    SiteSettings.current().save()  # any later change: its stamp is not the rolled-back one's
    assert ChatModel.for_send(alice, "o3") is not None


def test_key_checks_and_budgets_change_the_stamp_and_last_used_does_not(alice, team_key):
    stamp = freshness.current()
    ApiKey.objects.filter(pk=team_key.pk).update(last_used=team_key.created)
    assert freshness.current() == stamp
    ApiKey.objects.filter(pk=team_key.pk).update(check_result="rejected")
    assert freshness.current() != stamp
    stamp = freshness.current()
    Budget.objects.create(is_team=True, monthly_tokens=10)
    assert freshness.current() != stamp
