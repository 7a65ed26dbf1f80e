"""Times one user's chat pages with 10,000 conversations: python bench/history_pages.py [--conversations N].

Builds the rows once with bulk_create (one user, N conversations of 20 messages, each a chain of
parents), then times the chat page, a conversation, the sidebar's next pages and a search through
Django's test client, printing the median and 95th percentile with the number of queries. Run it on
a database of its own, e.g.:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenoff_bench python bench/history_pages.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import Conversation, Message  # noqa: E402

USERNAME = "bench-history"
MESSAGES_EACH = 20


def build(count: int):
    user, created = get_user_model().objects.get_or_create(username=USERNAME)
    if not created and Conversation.objects.filter(owner=user).count() == count:
        return user
    Conversation.objects.filter(owner=user).delete()
    start = timezone.now() - dt.timedelta(days=400)
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                owner=user, title=f"Talk {i}", model="gpt-4.1", updated=start + dt.timedelta(minutes=i)
            )
            for i in range(count)
        ],
        batch_size=5000,
    )
    previous: list = [None] * count
    for j in range(MESSAGES_EACH):
        previous = Message.objects.bulk_create(
            [
                Message(
                    conversation=c,
                    parent=previous[i],
                    role="user" if j % 2 == 0 else "assistant",
                    content=f"message {j} about item{i % 997} of {c.title}",
                    model="gpt-4.1",
                )
                for i, c in enumerate(conversations)
            ],
            batch_size=5000,
        )
    return user


def timed(client: Client, url: str, runs: int) -> tuple[float, float, int]:
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = build(args.conversations)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    middle = Conversation.objects.filter(owner=user).order_by("-updated")[args.conversations // 2]
    after = client.get("/c/list.json").json()["after"]
    urls = {
        "chat page": "/",
        "a conversation (20 messages)": f"/c/{middle.pk}/",
        "sidebar, next 50": f"/c/list.json?after={after}",
        "search, common word": "/c/search.json?q=message",
        "search, rare word": "/c/search.json?q=item996",
    }
    print(
        f"{connection.vendor}, {args.conversations:,} conversations of {MESSAGES_EACH} messages,"
        f" {args.runs} runs"
    )
    for name, url in urls.items():
        median, p95, queries = timed(client, url, args.runs)
        print(f"{name:32} median {median:7.1f} ms   p95 {p95:7.1f} ms   {queries} queries")


if __name__ == "__main__":
    main()
