"""Upload and processing of the largest attachment fixtures through the real view: time and peak memory.

    python -m bench.attachments                       # every fixture, 3 runs each: docs/performance.md
    python -m bench.attachments --only jpeg,pdf --runs 1    # a quick round

Each fixture is measured in a process of its own (a fresh high-water mark): Django with the test
settings on an in-memory SQLite database, a signed-in member, Django's test client posting the file
to POST /api/attachments/ (sniff, decode or extract, re-encode, store), media in a temporary folder.
After a warm-up upload (libraries loaded, the token encoding built), the peak resident memory is
reset (Linux: /proc/self/clear_refs) and read back after each upload (VmHWM), less the resident
memory before it. The CPU time is the process's: less sensitive than the wall time to a busy
machine. Python's own allocations are traced apart (tracemalloc) in one more upload, since tracing
slows it. The test client holds the multipart body in memory too: the RSS figures include
about twice the file's size for it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def big_workbook() -> tuple[str, bytes]:
    """A workbook of 2 sheets x 10,000 rows x 8 columns: past the 100,000 cells a workbook gives."""
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for sheet in range(2):
        rows = workbook.create_sheet(f"Sheet {sheet + 1}")
        rows.append([f"column {c}" for c in range(8)])
        for r in range(10_000):
            rows.append(
                [r, r * 1.5, f"item {r}", "north" if r % 2 else "south", r % 7, r % 13, "x" * 10, r * 3]
            )
    out = io.BytesIO()
    workbook.save(out)
    return "ledger.xlsx", out.getvalue()


def fixtures_by_key() -> dict:
    from tests.attachments import fixtures

    return {
        "jpeg": ("12 MP JPEG (4000x3000, EXIF-rotated)", fixtures.jpeg_12mp),
        "heic": ("HEIC (4032x3024)", fixtures.heic_photo),
        "pdf": ("200-page PDF", fixtures.pdf_200_pages),
        "xlsx": ("two-sheet XLSX", fixtures.xlsx_two_sheets),
        "ledger": ("XLSX, 2 sheets x 10,000 rows x 8 columns", big_workbook),
        "screenshot": ("PNG screenshot 1280x800", fixtures.png_screenshot),
    }


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(path: Path, name: str, runs: int) -> dict:
    """In this process: warm up, then upload the file runs times; times and memory."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["TOKENOFF_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-attachments-")
    import django

    django.setup()
    import tracemalloc

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tests.attachments import fixtures

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    user = get_user_model().objects.create_user("bench-uploads")
    client = Client()
    client.force_login(user)
    content = path.read_bytes()

    def post(filename: str, body: bytes) -> dict:
        response = client.post("/api/attachments/", {"file": SimpleUploadedFile(filename, body)})
        assert response.status_code == 201, response.content
        return response.json()

    for warm in (fixtures.png_screenshot, fixtures.pdf_small):  # libraries loaded, encoding built
        post(*warm())
    times, cpu, peaks = [], [], []
    for _ in range(runs):
        before = _status_kb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = post(name, content)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        peaks.append(_status_kb("VmHWM") - before)
    tracemalloc.start()
    post(name, content)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "size": len(content),
        "seconds": statistics.median(times),
        "cpu": statistics.median(cpu),
        "rss_kb": max(peaks),
        "traced": traced,
        "answer": {k: answer[k] for k in ("kind", "size", "tokens", "width", "height", "pages")},
    }


def run_child(path: Path, name: str, runs: int) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.attachments",
            "--child",
            str(path),
            "--name",
            name,
            "--runs",
            str(runs),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"measuring {name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def stored(answer: dict) -> str:
    if answer["kind"] == "image":
        size = f"{answer['size'] / 1024:,.0f} kB"
        return f"{answer['width']}x{answer['height']}, {size}, {answer['tokens']:,} tokens"
    return f"{answer['pages'] or '-'} pages/sheets, {answer['tokens']:,} tokens"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated: jpeg,heic,pdf,xlsx,ledger,screenshot")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(json.dumps(measure(args.child, args.name, args.runs)))
        return
    chosen = fixtures_by_key()
    keys = args.only.split(",") if args.only else list(chosen)
    folder = Path(tempfile.mkdtemp(prefix="bench-attachment-fixtures-"))
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"{python}, {os.cpu_count()} cores; {args.runs} runs")
    print("| fixture | file | stored as | time (median) | CPU time | peak RSS growth | peak Python allocs |")
    print("|---|---|---|---|---|---|---|")
    for key in keys:
        label, make = chosen[key]
        name, content = make()
        path = folder / name
        path.write_bytes(content)
        found = run_child(path, name, args.runs)
        print(
            f"| {label} | {found['size'] / MB:.1f} MB | {stored(found['answer'])} | "
            f"{found['seconds'] * 1000:,.0f} ms | {found.get('cpu', 0) * 1000:,.0f} ms | "
            f"{found['rss_kb'] / 1024:,.0f} MB | "
            f"{found['traced'] / MB:,.0f} MB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
