"""`manage.py import_conversations --user NAME FILE`: an admin imports a member's export in the foreground."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation
from tests.imports import exports

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_conversations", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_the_command_imports_for_the_member_and_prints_the_report(alice, tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(exports.as_zip({"conversations.json": exports.as_json([exports.branched()])}))

    output = run("--user", "alice", str(path))
    again = run("--user", "alice", str(path), "--kind", "chatgpt")

    assert "imported  Monads" in output and "Imported 1, skipped 0 of 1 conversations." in output
    assert "skipped   Monads (already imported)" in again and "Imported 0, skipped 1" in again
    assert Conversation.objects.filter(owner=alice, imported_from="chatgpt:c-branched").count() == 1


def test_the_command_refuses_an_unknown_user_or_a_bad_file(alice, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 nope")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("--user", "nobody", str(bad))
    with pytest.raises(CommandError, match="No file at"):
        run("--user", "alice", str(tmp_path / "missing.zip"))
    with pytest.raises(CommandError, match="not a readable ZIP archive"):
        run("--user", "alice", str(bad))
