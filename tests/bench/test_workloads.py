"""bench/workloads.py: the benchmark's members stay within the site's per-member cap on sockets."""

from collections import Counter

import pytest
from django.conf import settings

from bench import workloads


@pytest.mark.parametrize(
    ("streams", "idle"), [(1, 0), (2, 100), (10, 40), (100, 500), (500, 500), (10, 2000)]
)
def test_every_member_opens_at_most_five_sockets(streams, idle):
    members = workloads.members_needed(streams, idle)
    per_member = Counter(workloads.spread(idle, members))
    assert max(per_member.values(), default=0) <= workloads.SOCKETS_EACH == 5
    streaming = workloads.stream_members(streams, members)
    warming = workloads.warmup_members(members)
    assert len(set(streaming)) == streams  # one member a stream
    assert not set(streaming) & set(warming)  # the warm-up's sockets are other members'


def test_a_plan_beyond_the_members_is_refused():
    with pytest.raises(ValueError, match="more than 2 members"):
        workloads.spread(11, 2)
    with pytest.raises(ValueError, match="need 20 members"):
        workloads.stream_members(10, 19)


def test_the_site_allows_the_plan():
    assert settings.TOKENOFF_MAX_SOCKETS_PER_USER >= workloads.SOCKETS_EACH
    workloads.check_caps(settings.TOKENOFF_MAX_SOCKETS_PER_USER)
    with pytest.raises(SystemExit, match="TOKENOFF_MAX_SOCKETS_PER_USER is 4"):
        workloads.check_caps(4)


def test_workloads_by_name():
    chosen = workloads.parse("continue,new,burst")
    assert [(w.name, w.new_conversations, w.ramp(2.0)) for w in chosen] == [
        ("continue", False, 2.0),
        ("new", True, 2.0),
        ("burst", True, 0.0),
    ]
    with pytest.raises(ValueError, match="unknown workload spread"):
        workloads.parse("new,spread")
