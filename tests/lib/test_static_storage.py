"""The page's scripts are ES modules: once collected, their imports name the hashed files."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

STATIC = Path(__file__).resolve().parents[2] / "static"
IMPORT = re.compile(r"""\bfrom\s*["']([./][^"']+)["']""")
MODULES = sorted(
    p.relative_to(STATIC).as_posix()
    for folder in ("chat", "review")
    for p in (STATIC / folder).glob("*.js")
    if IMPORT.search(p.read_text())
)


def test_the_pages_scripts_are_modules_that_import_each_other():
    assert {"chat/main.js", "chat/frames.js", "review/review.js"} <= set(MODULES)


def test_collectstatic_rewrites_the_modules_imports_to_hashed_names(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "chat.lib.static_storage.ModuleManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in MODULES:
        source = IMPORT.findall((STATIC / name).read_text())
        collected = IMPORT.findall((tmp_path / paths[name]).read_text())
        assert len(collected) == len(source), name
        folder = posixpath.dirname(name)
        for original, rewritten in zip(source, collected, strict=True):
            hashed = paths[posixpath.normpath(posixpath.join(folder, original))]
            # The same relative path, to the hashed file: "./util.js" -> "./util.1a2b3c4d5e6f.js".
            assert rewritten == posixpath.join(posixpath.dirname(original), posixpath.basename(hashed)), (
                name,
                rewritten,
            )
            assert rewritten != original
