"""A large export (5,000 conversations, ~20 MB) is read as a stream: memory stays bounded by one
conversation and the report, not by the file."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from chat.imports import runner
from chat.models import Conversation, ImportJob
from tests.imports import exports

pytestmark = pytest.mark.django_db

COUNT = 5000
PEAK_LIMIT = 12 * 1024 * 1024  # json.load of this file alone takes several times its 20 MB


def write_export(path) -> int:
    with path.open("w") as out:
        out.write("[")
        for n in range(COUNT):
            talk = exports.simple(
                f"big-{n}", title=f"Chat {n}", words=f"Question {n} " + "lorem ipsum " * 160
            )
            out.write(("," if n else "") + json.dumps(talk))
        out.write("]")
    return path.stat().st_size


@pytest.mark.timeout(600)  # about 30 s of CPU, slower on a busy machine under tracemalloc
def test_a_large_export_imports_in_bounded_memory(alice, tmp_path):
    path = tmp_path / "conversations.json"
    size = write_export(path)
    assert size > 19_000_000
    job = ImportJob.objects.create(owner=alice, kind=ImportJob.Kind.CHATGPT)

    tracemalloc.start()
    try:
        with path.open("rb") as file:
            job = runner.process(job, file, size)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (job.state, job.imported) == ("done", COUNT)
    assert Conversation.objects.filter(owner=alice).count() == COUNT
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"
    print(f"\n{COUNT} conversations, {size / 1e6:.1f} MB: peak {peak / 1e6:.1f} MB")
