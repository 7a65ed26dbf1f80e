"""docs/performance.md's results blocks: each configuration's replaced on its own."""

from __future__ import annotations

import datetime

from bench import report


def test_a_named_block_is_replaced_and_the_others_stay(tmp_path):
    docs = tmp_path / "performance.md"
    first, named = report.markers(), report.markers("postgres-redis")
    docs.write_text(
        f"intro\n{first[0]}\nold sqlite\n{first[1]}\nmiddle\n{named[0]}\nold pg\n{named[1]}\nend\n"
    )
    day = datetime.date(2026, 12, 6)
    report.write_docs(
        docs,
        report.block("python -m bench.relay", "2 CPUs", 1.0, "new pg", day, "postgres-redis"),
        "postgres-redis",
    )
    text = docs.read_text()
    assert "old sqlite" in text and "old pg" not in text and "new pg" in text
    assert text.startswith("intro\n") and text.endswith("end\n") and "Run of 6 December 2026" in text
    report.write_docs(docs, report.block("python -m bench.relay", "2 CPUs", 1.0, "new sqlite", day))
    assert "old sqlite" not in docs.read_text() and "new pg" in docs.read_text()
