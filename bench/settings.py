"""The site's settings for the benchmark's server: the real ones, plus a log of every database write.

Only the server the benchmark starts loads this module; production never pays for the wrapper.
"""

import os

from django.db.backends.signals import connection_created

from tokenoff_site.settings import *  # noqa: F403

WRITE_LOG = os.environ.get("BENCH_WRITE_LOG", "")
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _log_writes(execute, sql, params, many, context):
    """One line per write statement (verb and table), appended where the benchmark reads it."""
    head = sql.lstrip()[:60]
    if head.upper().startswith(WRITE_VERBS):
        _write_log.write(" ".join(head.split()[:3]) + "\n")
    return execute(sql, params, many, context)


def _count_writes_on(sender, connection, **kwargs):
    if _log_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_log_writes)


if WRITE_LOG:
    _write_log = open(WRITE_LOG, "a", buffering=1)  # line-buffered: one write(2) per statement
    connection_created.connect(_count_writes_on)
