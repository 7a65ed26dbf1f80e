"""The benchmark's tables, the block of docs/performance.md they replace (--write-docs), and its verdict."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN = "<!-- bench.relay results: written by `python -m bench.relay --write-docs`, do not edit -->"
END = "<!-- /bench.relay results -->"


def markers(name: str = "") -> tuple[str, str]:
    """The comments around a results block: the first block's, or those of the block `name`
    (`--write-docs NAME`: one block a configuration, e.g. SQLite, PostgreSQL and Redis, a cluster)."""
    if not name:
        return BEGIN, END
    return (
        f"<!-- bench.relay results ({name}): written by `python -m bench.relay --write-docs {name}`, "
        "do not edit -->",
        f"<!-- /bench.relay results ({name}) -->",
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def p50_p99(values: list[float]) -> str:
    return f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.99))}"


def added(site: list[float], floor: list[float], q: float) -> str:
    return ms(percentile(site, q) - percentile(floor, q))


def per_chunk(run: dict) -> float:
    return run["cpu"] / max(run["chunks"], 1)


def markdown(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


RELAY_HEADER = [
    "workload", "server", "C", "added TTFT p50 / p99 (ms)", "TTFT p50 / p99 (ms)", "chunk lag p50 / p99 (ms)",
    "server CPU per chunk (µs)", "floor (µs)", "server / floor", "SDK (µs)", "KiB per streaming socket",
    "frames per reply", "DB writes per reply", "errors", "other CPU (cores)",
]  # fmt: skip
DIRECT_HEADER = [
    "straight from the upstream", "workload", "C", "TTFT p50 / p99 (ms)", "chunk lag p50 / p99 (ms)",
    "CPU per chunk (µs)", "errors",
]  # fmt: skip
PAGES_HEADER = ["server", "KiB per idle socket", "page", "p50 / p99 (ms)", "server CPU per request (ms)"]


def _relay_row(workload: str, server: str, streams, site: dict, floor: dict, sdk: dict | None) -> list:
    return [
        workload,
        server,
        streams,
        f"**{added(site['ttft'], floor['ttft'], 0.5)}** / {added(site['ttft'], floor['ttft'], 0.99)}",
        p50_p99(site["ttft"]),
        f"{ms(percentile(site['lag'], 0.5))} / **{ms(percentile(site['lag'], 0.99))}**",
        us(per_chunk(site)),
        us(per_chunk(floor)),
        f"**{per_chunk(site) / per_chunk(floor):.2f}**",
        us(per_chunk(sdk)) if sdk else "",
        f"{site['streaming_socket_bytes'] / 1024:.0f}",
        f"{site['frames_per_reply']:.1f}",
        f"{site['writes_per_reply']:.1f}",
        len(site["errors"]),
        f"{site['others']:.2f}",
    ]


def table(results: dict) -> str:
    """results["site"][server][workload][C], results[floor or sdk][workload][C], "idle" and "pages"."""
    relay = [
        _relay_row(
            workload,
            server,
            streams,
            site,
            results["floor"][workload][streams],
            results["sdk"].get(workload, {}).get(streams),
        )
        for server, by_workload in results["site"].items()
        for workload, rounds in by_workload.items()
        for streams, site in rounds.items()
    ]
    direct = [
        [
            kind,
            workload,
            streams,
            p50_p99(run["ttft"]),
            p50_p99(run["lag"]),
            us(per_chunk(run)),
            len(run["errors"]),
        ]
        for kind in ("floor", "sdk")
        for workload, rounds in results[kind].items()
        for streams, run in rounds.items()
    ]
    pages = [
        [
            server,
            f"{results['idle'][server] / 1024:.0f}",
            f"`{page}`",
            p50_p99(timing["times"]),
            ms(timing["cpu"]),
        ]
        for server, page_times in results["pages"].items()
        for page, timing in page_times.items()
    ]
    return "\n".join(
        [
            *markdown(RELAY_HEADER, relay),
            "",
            *markdown(DIRECT_HEADER, direct),
            "",
            *markdown(PAGES_HEADER, pages),
        ]
    )


def block(command: str, machine: str, minutes: float, tables: str, today: datetime.date, name="") -> str:
    """The marked block of docs/performance.md: the exact command above the tables it printed."""
    begin, end = markers(name)
    return "\n".join(
        [
            begin,
            f"Run of {today:%-d %B %Y} ({minutes:.1f} minutes), on {machine}:",
            "",
            "```sh",
            command,
            "```",
            "",
            tables,
            end,
        ]
    )


def write_docs(path: Path, new_block: str, name: str = "") -> None:
    """Replace the marked block `name` of `path` (the two comments included) with `new_block`."""
    begin, end_mark = markers(name)
    text = path.read_text()
    start, end = text.find(begin), text.find(end_mark)
    if start < 0 or end < start:
        raise SystemExit(f"{path} has no block between {begin!r} and {end_mark!r}")
    path.write_text(text[:start] + new_block + text[end + len(end_mark) :])


def quieter(kept: dict | None, run: dict) -> dict:
    """Of two repetitions, one without errors if there is one, then the one other processes disturbed less."""
    return run if kept is None else min(kept, run, key=lambda r: (bool(r["errors"]), r["others"]))


def failures(results: dict) -> list[list[str]]:
    """Every round's errors, of the rounds that had any."""
    rounds = [
        run for by_workload in results["site"].values() for r in by_workload.values() for run in r.values()
    ]
    rounds += [run for kind in ("floor", "sdk") for r in results[kind].values() for run in r.values()]
    return [run["errors"] for run in rounds if run["errors"]]


def status(results: dict, check: bool) -> int:
    """The exit status: 1 with --check when any stream saw an error, said on stderr; else 0."""
    errors = failures(results)
    if check and errors:
        print(f"bench.relay: errors in {len(errors)} round(s), the first: {errors[0][:5]}", file=sys.stderr)
        return 1
    return 0
