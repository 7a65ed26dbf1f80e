"""Documents (chat/attachments/documents.py): text with page and sheet markers; scans and locks refused."""

from __future__ import annotations

import re

import pytest

from chat.attachments import documents
from chat.upstream.tokens import text_tokens
from tests.attachments import fixtures
from tests.attachments.conftest import upload, uploaded

pytestmark = pytest.mark.django_db
# The contract with chat/attachments/parts.py, written out again: a change of the markers fails here.
MARKER = re.compile(r"^--- (Page \d+|Sheet: .+) ---$", re.MULTILINE)


def text_of(attachment) -> str:
    with attachment.text.open("rb") as stored:
        return stored.read().decode("utf-8")


def test_a_200_page_pdf_is_read_page_by_page_with_a_marker_each(member):
    attachment = uploaded(member, fixtures.pdf_200_pages)
    text = text_of(attachment)
    assert MARKER.findall(text) == [f"Page {n}" for n in range(1, 201)]
    assert text.startswith("--- Page 1 ---\nPage 1 of the annual report")
    assert "--- Page 200 ---\nPage 200 of the annual report" in text
    assert attachment.pages == 200 and attachment.tokens == text_tokens(text)


def test_a_workbook_is_read_sheet_by_sheet_as_tab_separated_rows(member):
    attachment = uploaded(member, fixtures.xlsx_two_sheets)
    text = text_of(attachment)
    assert MARKER.findall(text) == ["Sheet: Summary", "Sheet: Detail"]
    assert text.startswith(
        "--- Sheet: Summary ---\nItem\tTotal\nApples\t12\nPears\t7\n\n--- Sheet: Detail ---\n"
    )
    assert "\n2026-01-30\t90" in text and attachment.pages == 2


def test_a_long_sheet_is_cut_and_says_so(member, monkeypatch):
    monkeypatch.setattr(documents, "MAX_ROWS", 5)
    text = text_of(uploaded(member, fixtures.xlsx_two_sheets))
    assert "[Only the first 5 rows of this sheet are included.]" in text
    assert "2026-01-04" in text and "2026-01-05" not in text


def test_a_big_workbook_is_cut_at_its_cell_budget_and_every_sheet_keeps_its_marker(member, monkeypatch):
    monkeypatch.setattr(documents, "MAX_CELLS", 10)  # Summary takes 6, Detail's first two rows 4
    text = text_of(uploaded(member, fixtures.xlsx_two_sheets))
    assert MARKER.findall(text) == ["Sheet: Summary", "Sheet: Detail"]
    assert text.endswith(
        "--- Sheet: Detail ---\nDay\tCount\n2026-01-01\t3\n"
        "[Only the first 2 rows of this sheet are included: a workbook gives 10 cells at most.]"
    )


def test_a_wide_row_is_cut_at_200_columns_and_says_so(member):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(list(range(1, 206)))
    workbook.active.append(["narrow"])
    out = io.BytesIO()
    workbook.save(out)
    lines = text_of(uploaded(member, ("wide.xlsx", out.getvalue()))).splitlines()
    assert lines[1] == "\t".join(str(n) for n in range(1, 201)) + " [and more columns]"
    assert lines[2] == "narrow"


def test_a_word_document_gives_its_paragraphs_and_tables(member):
    text = text_of(uploaded(member, fixtures.docx_report))
    assert (
        text
        == "Quarterly review\nThe team shipped attachments in the chat.\nRegion\tSales\nNorth\t120\nSouth\t95"
    )


@pytest.mark.parametrize("key", ["csv_table", "markdown_notes", "html_page", "svg_with_script", "utf16_text"])
def test_text_files_are_taken_as_they_are(member, key):
    name, content = fixtures.ALL[key]()
    attachment = uploaded(member, (name, content))
    expected = content.decode("utf-16") if key == "utf16_text" else content.decode()
    assert text_of(attachment) == expected and attachment.pages is None


def test_lines_that_look_like_our_markers_are_indented_out_of_the_way(member):
    text = text_of(uploaded(member, ("fake.md", b"intro\n--- Page 9 ---\n--- Sheet: X ---\n")))
    assert MARKER.findall(text) == [] and " --- Page 9 ---" in text


def test_a_scan_says_plainly_it_has_no_text(member):
    response = upload(member, fixtures.pdf_scanned)
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_text_layer"
    assert "looks like a scan" in response.json()["error"]["message"]


def test_a_locked_pdf_asks_for_a_copy_without_the_password(member):
    response = upload(member, fixtures.pdf_encrypted)
    assert response.status_code == 400 and response.json()["error"]["code"] == "encrypted"
    assert "password" in response.json()["error"]["message"]


def test_a_damaged_pdf_and_a_pdf_past_the_page_limit_are_refused(member, monkeypatch):
    broken = upload(member, ("cut.pdf", b"%PDF-1.7\n" + b"garbage" * 50))
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "unreadable")
    monkeypatch.setattr(documents, "MAX_PAGES", 100)
    long = upload(member, fixtures.pdf_200_pages)
    assert (long.status_code, long.json()["error"]["code"]) == (400, "too_many_pages")


def test_a_document_that_reads_too_slowly_is_refused(member, monkeypatch):
    monkeypatch.setattr(documents, "MAX_SECONDS", -1.0)
    response = upload(member, fixtures.pdf_small)
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_slow"


def test_a_very_long_text_is_cut_and_says_so(member, monkeypatch):
    monkeypatch.setattr(documents, "MAX_CHARS", 100)
    text = text_of(uploaded(member, ("long.txt", b"word " * 1000)))
    assert text.startswith("word " * 20) and text.endswith(
        "[The rest of the document is left out: it is too long.]"
    )
