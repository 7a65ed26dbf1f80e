"""What the streams do (the workloads) and who opens which socket (the members, within the site's caps).

- `continue`: each stream continues a conversation of its own (20 messages of history go upstream),
  the sends spread evenly over the ramp.
- `new`: each stream starts a new conversation, so each reply is followed by its title request; the
  sends spread over the ramp.
- `burst`: new conversations, all sends at the same instant.

One member a stream (a team's load), and never more than SOCKETS_EACH sockets open for one member,
below the site's per-member cap (TOKENOFF_MAX_SOCKETS_PER_USER, whose excess is refused with 403).
"""

from __future__ import annotations

from dataclasses import dataclass

SOCKETS_EACH = 5  # the most sockets one member opens at once (a member's open tabs)
WARMUP_STREAMS = 10  # short replies before each round, on members the round's streams do not use


@dataclass(frozen=True)
class Workload:
    name: str
    new_conversations: bool  # each send starts a conversation (and its title request follows the reply)
    spread: bool  # the sends spread over the ramp; else all at once

    def ramp(self, ramp: float) -> float:
        """Seconds over which this workload's sends go out."""
        return ramp if self.spread else 0.0


WORKLOADS = {
    workload.name: workload
    for workload in (
        Workload("continue", new_conversations=False, spread=True),
        Workload("new", new_conversations=True, spread=True),
        Workload("burst", new_conversations=True, spread=False),
    )
}


def parse(names: str) -> list[Workload]:
    """`continue,new,burst` → the workloads, in that order; ValueError names an unknown one."""
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in WORKLOADS]
    if unknown or not chosen:
        raise ValueError(
            f"unknown workload {', '.join(unknown) or '(none)'}: choose from {', '.join(WORKLOADS)}"
        )
    return [WORKLOADS[name] for name in chosen]


def members_needed(max_streams: int, idle_sockets: int) -> int:
    """Members for a run: one a stream plus the warm-up's own, and enough for the idle sockets."""
    return max(max_streams + WARMUP_STREAMS, -(-idle_sockets // SOCKETS_EACH))


def spread(count: int, members: int) -> list[int]:
    """The member (an index) of each of `count` sockets: round robin, at most SOCKETS_EACH each."""
    if count > members * SOCKETS_EACH:
        raise ValueError(f"{count} sockets need more than {members} members at {SOCKETS_EACH} each")
    return [i % members for i in range(count)]


def stream_members(streams: int, members: int) -> list[int]:
    """One member a stream, none of them a warm-up member."""
    if streams + WARMUP_STREAMS > members:
        raise ValueError(f"{streams} streams and the warm-up need {streams + WARMUP_STREAMS} members")
    return list(range(streams))


def warmup_members(members: int) -> list[int]:
    return list(range(members - WARMUP_STREAMS, members))


def check_caps(sockets_per_user: int) -> None:
    """Refuse to run when the site's cap (TOKENOFF_MAX_SOCKETS_PER_USER) is below the plan's."""
    if sockets_per_user < SOCKETS_EACH:
        raise SystemExit(
            f"TOKENOFF_MAX_SOCKETS_PER_USER is {sockets_per_user}: the benchmark opens up to "
            f"{SOCKETS_EACH} sockets a member (bench/workloads.py SOCKETS_EACH)"
        )
