"""Times the review pages on a large database: python bench/review_pages.py [--conversations 100000].

Builds the rows once with bulk_create (users, conversations, two exchanges each, feedback, flags),
then times each page through Django's test client as a reviewer and prints the median and 95th
percentile with the number of queries. Run it against PostgreSQL, on a database of its own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenoff_bench python bench/review_pages.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.conversations import branches  # noqa: E402
from chat.lib.keyset import Cursor  # noqa: E402
from chat.models import Conversation, Message  # noqa: E402
from chat.models.feedback import Feedback  # noqa: E402
from chat.models.flags import Flag  # noqa: E402

MODELS = ["gpt-4.1", "gpt-4o", "gpt-5-mini", "o3", "gpt-4.1-mini"]
FINISH = ["stop"] * 90 + ["length"] * 3 + ["stopped"] * 3 + ["error"] * 2 + ["interrupted"] * 2
VOCABULARY = 5000
# Words at chosen ranks of a Zipf distribution, so that searches of known frequency can be timed.
PLACED = {5: "system", 50: "budget", 100: "refund", 101: "contract", 200: "invoice", 3000: "zeppelin"}
BATCH = 5000


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Made-up words with Zipf frequencies: a few everywhere, most rare, as in real text."""
    syllables = [
        "ka",
        "lo",
        "mi",
        "ren",
        "tu",
        "sa",
        "vel",
        "or",
        "ni",
        "pa",
        "qua",
        "de",
        "zo",
        "bri",
        "ent",
    ]
    words, seen = [], set(PLACED.values())
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    for rank, word in PLACED.items():
        words[rank - 1] = word
    return words, list(itertools.accumulate(1 / rank for rank in range(1, VOCABULARY + 1)))


def sentence(rng: random.Random, words: tuple[list[str], list[float]], n: int) -> str:
    return " ".join(rng.choices(words[0], cum_weights=words[1], k=n)) + "."


def build(conversations: int, users: int, seed: int = 7) -> None:
    """The rows, unless a previous run made them already."""
    if Conversation.objects.count() >= conversations:
        return
    rng = random.Random(seed)
    words = vocabulary(rng)
    User = get_user_model()
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=f"user{i}", password=unusable) for i in range(users)], ignore_conflicts=True
    )
    owners = list(User.objects.filter(username__startswith="user"))
    now = timezone.now()
    made = 0
    started = time.monotonic()
    while made < conversations:
        size = min(BATCH, conversations - made)
        rows = []
        for _ in range(size):
            updated = now - dt.timedelta(seconds=rng.randint(0, 365 * 86400))
            rows.append(
                Conversation(
                    owner=rng.choice(owners),
                    title=sentence(rng, words, 5)[:-1].capitalize(),
                    model=rng.choice(MODELS),
                    created=updated - dt.timedelta(minutes=rng.randint(1, 600)),
                    updated=updated,
                )
            )
        Conversation.objects.bulk_create(rows)
        messages = []
        for conv in rows:
            for turn in range(2):
                at = conv.created + dt.timedelta(minutes=turn)
                question = sentence(rng, words, 15)
                messages.append(
                    Message(conversation=conv, role="user", content=question, model=conv.model, created=at)
                )
                messages.append(
                    Message(
                        conversation=conv,
                        role="assistant",
                        content=sentence(rng, words, 60),
                        model=conv.model,
                        served_model=conv.model + "-2025",
                        finish_reason=rng.choice(FINISH),
                        usage={"prompt_tokens": 20, "completion_tokens": 80, "total_tokens": 100},
                        created=at,
                    )
                )
        Message.objects.bulk_create(messages)
        branches.link_in_order(Message.objects.filter(conversation__in=rows))
        replies = [m for m in messages if m.role == "assistant" and rng.random() < 0.03]
        Feedback.objects.bulk_create(
            [
                Feedback(
                    message=m,
                    user=m.conversation.owner,
                    rating=rng.choice([-1, -1, -1, 1, 1]),
                    created=m.created,
                )
                for m in replies
            ]
        )
        Flag.objects.bulk_create([Flag(conversation=c, note="bench") for c in rows if rng.random() < 0.002])
        made += size
        print(f"  built {made:,} conversations ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        for table in ("chat_conversation", "chat_message", "chat_feedback", "chat_flag"):
            cursor.execute(f"ANALYZE {table}")


def timed(client: Client, url: str, repeat: int, method: str = "get", data=None) -> tuple[float, float, int]:
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = getattr(client, method)(url, data)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}, building up to {args.conversations:,} conversations")
    build(args.conversations, args.users)
    User = get_user_model()
    reviewer, _ = User.objects.get_or_create(username="bench-reviewer")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(reviewer)

    total = Conversation.objects.count()
    deep = Conversation.objects.order_by("-updated", "-id").values_list("updated", "pk")[total // 2]
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    busy_user = Conversation.objects.values_list("owner__username", flat=True).first()
    sample = Conversation.objects.order_by("-updated").values_list("pk", flat=True)[:50]
    print(
        f"{total:,} conversations, {Message.objects.count():,} messages, "
        f"{Feedback.objects.count():,} feedback, {Flag.objects.count():,} flags\n"
    )
    cases = [
        ("first page", "/review/"),
        ("page in the middle (keyset)", f"/review/?after={Cursor(*deep)}"),
        ("one user", f"/review/?user={busy_user}"),
        ("one model", "/review/?model=o3"),
        ("errors", "/review/?outcome=error"),
        ("thumbs down", "/review/?feedback=down"),
        (
            "yesterday + thumbs down + model",
            f"/review/?since={yesterday}&until={yesterday}&feedback=down&model=o3",
        ),
        ("flagged", "/review/?flagged=on"),
        ("search, word in most messages", "/review/?q=system"),
        ("search, word in 1 message of 8", "/review/?q=budget"),
        ("search, rare word", "/review/?q=zeppelin"),
        ("search, phrase", '/review/?q="refund contract"'),
        ("search + user + thumbs down", f"/review/?q=invoice&user={busy_user}&feedback=down"),
        ("search, only a negation (every message)", "/review/?q=-budget"),
        ("transcript", f"/review/{sample[0]}/"),
        ("flagged view", "/review/flags/"),
    ]
    print(f"{'page':<36} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, url in cases:
        median, p95, queries = timed(client, url, args.repeat)
        print(f"{name:<36} {median:>10.1f} {p95:>8.1f} {queries:>8}", flush=True)
    median, p95, queries = timed(
        client, "/review/export/", max(3, args.repeat // 4), "post", {"ids": list(sample), "format": "json"}
    )
    print(f"{'export 50 as JSON':<36} {median:>10.1f} {p95:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
