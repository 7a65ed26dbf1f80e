"""Uploads into a media folder of each test's own, through the real view, as a signed-in member."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import Attachment


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """A media folder of this test's own: what is on disk after it is this test's doing only."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def sign_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def member(client, alice):
    """alice's browser."""
    return sign_in(client, alice)


def upload(client, fixture, **extra):
    """POST one fixture (a function of tests/attachments/fixtures.py, or a (name, bytes) pair)."""
    name, content = fixture() if callable(fixture) else fixture
    return client.post("/api/attachments/", {"file": SimpleUploadedFile(name, content), **extra})


def stored_files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file()) if media.exists() else []


def uploaded(client, fixture) -> Attachment:
    response = upload(client, fixture)
    assert response.status_code == 201, response.content
    return Attachment.objects.get(pk=response.json()["id"])
