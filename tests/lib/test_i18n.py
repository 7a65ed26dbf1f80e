"""English and Simplified Chinese: the browser's language by default, complete .po files."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUES = sorted(Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/*.po"))
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans,zh;q=0.9,en;q=0.5"}


def po_entries(path: Path) -> list[dict]:
    """A tiny reader of a .po file: each entry's flags, msgid and msgstr (plural forms joined)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = {"flags": "", "msgctxt": "", "msgid": "", "msgid_plural": "", "msgstr": ""}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif match := re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line):
                field = "msgstr" if match[1].startswith("msgstr") else match[1]
                entry[field] += match[2]
            elif line.startswith('"') and field:
                entry[field] += line[1:-1]
        if entry["msgid"]:
            entries.append(entry)
    return entries


def test_there_are_catalogues():
    assert {p.name for p in CATALOGUES} == {"django.po", "djangojs.po"}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.name)
def test_every_entry_is_translated_and_none_is_fuzzy(po):
    entries = po_entries(po)
    assert not [e["msgid"] for e in entries if not e["msgstr"]], "untranslated: see docs/i18n.md"
    assert not [e["msgid"] for e in entries if "fuzzy" in e["flags"]], "fuzzy: check and clear the flag"


# A literal marked for translation in the page's scripts: _("…"), gettext("…"), ngettext("…", …).
SCRIPT_STRING = re.compile(r'(?<![\w.])(?:_|gettext|ngettext|pgettext\("[^"]*",\s*)\(?"((?:[^"\\]|\\.)*)"')


def test_every_string_the_scripts_mark_is_in_the_javascript_catalogue():
    """xgettext stops reading a file at syntax it misparses (a quote inside a regex literal, nested
    template literals) and says nothing: the strings after it then stay English in Chinese pages."""
    static = Path(settings.BASE_DIR) / "static"
    scripts = [p for p in static.rglob("*.js") if "vendor" not in p.parts]
    marked = {
        (path.name, match[1]) for path in scripts for match in SCRIPT_STRING.finditer(path.read_text("utf-8"))
    }
    catalogued = {
        e["msgid"] for e in po_entries(Path(settings.LOCALE_PATHS[0]) / "zh_Hans/LC_MESSAGES/djangojs.po")
    }
    assert len(marked) > 50
    missing = sorted((name, text) for name, text in marked if text.replace('\\"', '"') not in catalogued)
    assert not missing, f"not in djangojs.po (run makemessages -d djangojs, see docs/i18n.md): {missing}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.name)
def test_the_compiled_catalogue_is_current(po):
    mo = po.with_suffix(".mo")
    # Some slack: a fresh checkout writes the .mo just before its .po; the contents are checked below.
    assert mo.exists() and mo.stat().st_mtime + 5 >= po.stat().st_mtime, f"run compilemessages for {po}"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in po_entries(po):
        if not entry["msgid_plural"] and "\\" not in entry["msgid"] + entry["msgstr"]:
            found = (
                compiled.pgettext(entry["msgctxt"], entry["msgid"])
                if entry["msgctxt"]
                else compiled.gettext(entry["msgid"])
            )
            assert found == entry["msgstr"], f"run compilemessages for {po}"


def test_the_log_in_page_speaks_the_browsers_language(client, db):
    page = client.get("/accounts/login/", **ZH).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录你团队的 TokenOff Chat。" in page and "Sign in to" not in page


def test_english_stays_the_default(client, db):
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}):
        page = client.get("/accounts/login/", **headers).content.decode()
        assert '<html lang="en">' in page and "Sign in to your team's TokenOff Chat." in page


@pytest.mark.parametrize(
    ("url", "chinese", "english"),
    [
        ("/settings/", "你的 TokenOff API 密钥", "Your TokenOff API key"),
        ("/usage/", "你的用量", "Your usage"),
    ],
)
def test_the_members_pages_come_out_in_chinese(client, alice, url, chinese, english):
    client.force_login(alice)
    page = client.get(url, **ZH).content.decode()
    assert chinese in page and english not in page
    assert "退出登录" in page  # the top bar too


def test_the_switch_sets_a_language_that_sticks(client, alice):
    client.force_login(alice)
    switched = client.post("/i18n/setlang/", {"language": "zh-hans"}, HTTP_REFERER="http://testserver/usage/")
    assert switched.status_code == 302 and switched["Location"].endswith("/usage/")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    # The cookie wins over the browser's English.
    assert "你的用量" in client.get("/usage/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "en"})
    assert "Your usage" in client.get("/usage/", **ZH).content.decode()


def test_the_switch_lists_each_language_in_its_own_name(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'name="language"' in page
    assert ">English</option>" in page and ">简体中文</option>" in page


def test_the_javascript_catalogue_is_served_in_the_pages_language_and_cached(client, db):
    page = client.get("/accounts/login/", **ZH).content.decode()
    src = re.search(r'<script src="(/jsi18n/[^"]+)" defer>', page)[1].replace("&amp;", "&")
    assert "l=zh-hans" in src
    catalogue = client.get(src, **ZH)
    assert catalogue.status_code == 200 and "function" in catalogue.content.decode()
    assert "max-age" in catalogue["Cache-Control"] and catalogue.has_header("Last-Modified")
