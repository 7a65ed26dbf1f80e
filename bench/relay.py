"""The relay benchmark: the site passing the fake upstream's tokens to C WebSocket clients at once,
beside clients that read the same streams straight from the upstream, in the same run.

    python -m bench.relay --servers daphne --streams 1,10,100 --workload continue,new,burst --write-docs
    python -m bench.relay --streams 100 --workload burst --servers daphne,uvicorn

Everything runs on 127.0.0.1: the fake upstream, the server and the clients, each in a process of
its own; every stream is bounded in chunks and every wait in time. See docs/performance.md. A
socket the site refuses ends the run with status 1; with --check, so does any stream's error.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psutil

from bench import cluster, data, report, workloads
from bench.rounds import idle_sockets, pages, site_round
from bench.server import ROOT, Server
from bench.sockets import Refused
from bench.upstream import Fake, direct

ENCRYPTION_KEY = "YmVuY2htYXJrLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="  # the benchmark's own, test-only


def server_env(database_url: str, fake: Fake, write_log: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOKENOFF_", "REDIS_URL"))}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "TOKENOFF_DOTENV": "0",  # not this machine's .env (quickstart's turns DEBUG on)
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production",
        "DJANGO_HTTPS": "0",  # served over plain http on loopback, on purpose
        "TOKENOFF_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "TOKENOFF_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "BENCH_WRITE_LOG": str(write_log),
        "PYTHONPATH": str(ROOT),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = psutil.virtual_memory().total / 2**30
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs: {cpu}, {memory:.0f} GiB, Python {python}, {platform.platform()}"


def keep(
    results: dict, where: dict, kind: str, workload: str, streams: int, repetition: int, run: dict
) -> None:
    """Note the round in `where` (by workload, then C) if it is the quieter, and in the list of all runs."""
    rounds = where.setdefault(workload, {})
    rounds[streams] = report.quieter(rounds.get(streams), run)
    results["runs"].append(
        {"kind": kind, "workload": workload, "streams": streams, "repetition": repetition, **run}
    )


def start_site(args, kind: str, env: dict):
    """One server of `kind`, or with --cluster N, N of them behind nginx (bench/cluster.py)."""
    if args.cluster:
        return cluster.Cluster(kind, args.cluster, env, args.workdir / "cluster")
    return Server(kind, env, args.workdir / f"{kind}.log")


def measure(args, fake: Fake, env: dict, bench, write_log: Path) -> dict:
    """Every figure of the tables; with --repeat, each round's quietest repetition (all kept in "runs")."""
    results: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    results |= {"floor": {}, "sdk": {}, "site": {kind: {} for kind in args.servers}, "idle": {}, "pages": {}}
    for kind in args.servers:
        server = start_site(args, kind, env)
        try:
            results["idle"][kind] = asyncio.run(idle_sockets(server, bench, args.idle_sockets))
            results["pages"][kind] = asyncio.run(pages(server, bench, args.page_requests))
        finally:
            server.stop()
    receivers = ("floor",) if args.no_sdk else ("floor", "sdk")
    # Each C's rounds run one after the other, so that the floor and the site see the same machine.
    for repetition in range(args.repeat):
        for streams in args.streams:
            for workload in args.workload:
                ramp = workload.ramp(args.ramp)
                for kind in receivers:
                    run = direct(kind, fake, streams, args.chunks, 1 / args.rate, ramp)
                    keep(results, results[kind], kind, workload.name, streams, repetition, run)
                for kind in args.servers:
                    # A fresh server a round: its memory figures are not flattered by an earlier one's.
                    server = start_site(args, kind, env)
                    try:
                        run = asyncio.run(site_round(server, fake, bench, write_log, args, streams, workload))
                    finally:
                        server.stop()
                    keep(results, results["site"][kind], kind, workload.name, streams, repetition, run)
                print(
                    f"{workload.name} C={streams} done ({repetition + 1} of {args.repeat})", file=sys.stderr
                )
    if args.cluster:  # the tables' server column: "daphne x2 + nginx"
        for part in ("site", "idle", "pages"):
            results[part] = {f"{kind} x{args.cluster} + nginx": v for kind, v in results[part].items()}
    return results


def run(args) -> dict:
    """Start the fake, build (or reuse) the database, measure; Refused when the site refuses a socket."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # C=500 holds thousands of sockets
    args.workdir.mkdir(parents=True, exist_ok=True)
    write_log = args.workdir / "writes.log"
    write_log.unlink(missing_ok=True)
    fake = Fake(args.workdir / "fake.log")
    try:
        database_url = args.database_url or data.sqlite_url(args.workdir, fresh=not args.reuse_db)
        env = server_env(database_url, fake, write_log)
        if args.cluster:
            env = cluster.cluster_env(env, args.redis_url)
        data.setup({k: v for k, v in env.items() if k != "BENCH_WRITE_LOG"})
        from django.conf import settings

        workloads.check_caps(settings.TOKENOFF_MAX_SOCKETS_PER_USER)
        saved = args.workdir / "bench-data.json"
        members = workloads.members_needed(max(args.streams), args.idle_sockets)
        bench = data.load(saved) if args.reuse_db else None
        if bench is None or len(bench.stream_conversations) < members:
            began = time.monotonic()
            bench = data.build(members, args.history)
            saved.write_bytes(orjson.dumps(bench))
            print(f"database built in {time.monotonic() - began:.0f} s", file=sys.stderr)
        try:
            return measure(args, fake, env, bench, write_log)
        finally:
            if args.cluster:
                cluster.delete_redis_keys(env)
    finally:
        fake.stop()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--streams",
        type=counts,
        default=counts("1,10,100,500"),
        help="comma-separated concurrent streams (C)",
    )
    parser.add_argument(
        "--workload",
        type=workload_list,
        default=workload_list("continue"),
        help="comma-separated, of continue, new, burst (bench/workloads.py)",
    )
    parser.add_argument("--chunks", type=int, default=100, help="upstream chunks per reply (N)")
    parser.add_argument("--rate", type=float, default=20.0, help="upstream chunks per second")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which spread sends go out")
    parser.add_argument("--servers", type=lambda text: text.split(","), default=["daphne", "uvicorn"])
    parser.add_argument("--idle-sockets", type=int, default=500)
    parser.add_argument("--page-requests", type=int, default=100)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: a new SQLite file")
    parser.add_argument(
        "--cluster", type=int, default=0, help="N server processes behind nginx (PostgreSQL and Redis)"
    )
    parser.add_argument("--redis-url", default=cluster.REDIS_URL, help="the channel layer with --cluster")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tokenoff-bench")
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep the last run's database (faster, for tuning)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds per C; the least disturbed is reported")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--history", type=int, default=data.HISTORY_CONVERSATIONS, help="conversations behind the pages"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if any stream saw an error (the small round in CI)"
    )
    parser.add_argument("--no-sdk", action="store_true", help="only the bare floor reads straight (CI)")
    parser.add_argument(
        "--write-docs",
        nargs="?",
        const="",
        metavar="BLOCK",
        help="replace docs/performance.md's results (its block BLOCK if named, e.g. postgres-redis)",
    )
    parser.add_argument("--profile", type=Path, help="py-spy the server over each round, into this folder")
    return parser


def counts(text: str) -> list[int]:
    return [int(c) for c in text.split(",")]


def workload_list(text: str) -> list[workloads.Workload]:
    try:
        return workloads.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    began = time.monotonic()
    try:
        results = run(args)
    except Refused as exc:
        print(f"bench.relay: {exc}; no figures (see bench/workloads.py)", file=sys.stderr)
        return 1
    tables = report.table(results)
    print(f"{results['machine']}\n")
    print(tables)
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_NON_STR_KEYS))
    failed = report.status(results, args.check)
    if args.write_docs is not None and report.failures(results):
        print(f"bench.relay: streams saw errors; {report.DOCS} left as it was", file=sys.stderr)
        return 1
    if args.write_docs is not None:
        command = shlex.join(["python", "-m", "bench.relay", *argv])
        minutes = (time.monotonic() - began) / 60
        today = datetime.date.today()
        block = report.block(command, results["machine"], minutes, tables, today, args.write_docs)
        report.write_docs(report.DOCS, block, args.write_docs)
    return failed


if __name__ == "__main__":
    sys.exit(main())
