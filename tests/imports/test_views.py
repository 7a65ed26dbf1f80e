"""/imports/: the upload starts a job, the page polls its progress and report; another member's job is
not found; a job a dead process left running is shown failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chat.imports import runner
from chat.models import Conversation, ImportJob
from tests.imports import exports

pytestmark = pytest.mark.django_db


@pytest.fixture
def inline(monkeypatch):
    """The job runs at once in the request's thread: the test's transaction is not visible to another."""
    started = []
    monkeypatch.setattr(runner, "start", lambda job: started.append(runner.run(job)))
    return started


def upload(client, data: bytes, name: str = "export.zip"):
    return client.post("/imports/", {"file": SimpleUploadedFile(name, data)})


def test_an_upload_starts_a_job_and_the_page_polls_it_to_its_report(client, alice, inline):
    client.force_login(alice)
    response = upload(client, exports.as_zip({"conversations.json": exports.as_json([exports.branched()])}))

    assert response.status_code == 202
    job_id = response.json()["id"]
    status = client.get(f"/imports/{job_id}.json").json()
    assert (status["state"], status["imported"], status["skipped"], status["progress"]) == ("done", 1, 0, 100)
    assert status["report"] == [{"title": "Monads", "outcome": "imported", "why": ""}]
    assert client.get("/imports/latest.json").json()["job"]["id"] == job_id
    # The uploaded file is gone once the job ends.
    assert not ImportJob.objects.get(pk=job_id).upload
    assert Conversation.objects.filter(owner=alice).count() == 1


def test_another_member_cannot_see_the_job(client, alice, bob, inline):
    client.force_login(alice)
    job_id = upload(client, exports.as_json([exports.simple("x")]), "conversations.json").json()["id"]
    client.force_login(bob)

    assert client.get(f"/imports/{job_id}.json").status_code == 404
    assert client.get("/imports/latest.json").json() == {"job": None}


def test_bad_uploads_get_a_clear_error(client, alice, inline):
    assert client.post("/imports/").status_code == 401
    client.force_login(alice)

    no_file = client.post("/imports/", {})
    assert no_file.status_code == 400 and no_file.json()["error"]["message"]
    assert (
        client.post("/imports/", {"file": SimpleUploadedFile("x.json", b"[]"), "kind": "x"}).status_code
        == 400
    )
    assert client.get("/imports/").status_code == 405
    failed = upload(client, b"this is no export")
    assert client.get(f"/imports/{failed.json()['id']}.json").json()["error"] == (
        "This file is neither a ZIP nor a JSON export of conversations."
    )


def test_an_upload_past_the_limit_is_refused_with_413(client, alice, inline, monkeypatch):
    from chat.imports import views

    monkeypatch.setattr(views, "MAX_BYTES", 1000)
    client.force_login(alice)

    response = upload(client, b"[" + b" " * 5000 + b"]")
    assert response.status_code == 413 and "too large" in response.json()["error"]["message"]
    assert not ImportJob.objects.exists()


def test_a_job_left_running_by_a_dead_process_is_shown_failed(client, alice):
    stale = timezone.now() - timedelta(minutes=10)
    job = ImportJob.objects.create(owner=alice, kind="chatgpt", state="running", heartbeat=stale)
    client.force_login(alice)

    status = client.get(f"/imports/{job.pk}.json").json()

    assert status["state"] == "failed" and "stopped" in status["error"]
    assert ImportJob.objects.get(pk=job.pk).state == "failed"


def test_a_running_job_with_a_recent_heartbeat_is_left_running(client, alice):
    job = ImportJob.objects.create(owner=alice, kind="chatgpt", state="running", heartbeat=timezone.now())
    client.force_login(alice)

    assert client.get(f"/imports/{job.pk}.json").json()["state"] == "running"
