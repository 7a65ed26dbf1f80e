"""The attachment fixtures the tests generate: each a function returning (file name, bytes).

Deterministic (fixed seeds, fixed dates: the same bytes every run, but for the encrypted PDF, whose
key pypdf salts at random), built on first use and cached per process, so the
big ones (12 MP JPEG, HEIC, 200-page PDF) cost once a run. `write_all(folder)` puts every one on disk
for a browser test or a bench that needs paths. Imported by the upload, send and page tests.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
import re
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

FIXED_DATE = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

# The text of the documents: what a test can look for in the extracted text.
PDF_PAGES = 200
PDF_PAGE_TEXT = "Page {n} of the annual report: revenue, costs and the outlook for quarter {q}."
DOCX_HEADING = "Quarterly review"
DOCX_PARAGRAPH = "The team shipped attachments in the chat."
DOCX_TABLE = [["Region", "Sales"], ["North", "120"], ["South", "95"]]
XLSX_SHEETS = {"Summary": [["Item", "Total"], ["Apples", 12], ["Pears", 7]], "Detail": [["Day", "Count"]]}
XLSX_DETAIL_ROWS = 30
CSV_TEXT = "name,amount\nalice,3\nbob,5\n"
SCREENSHOT_SIZE = (1280, 800)
SCREENSHOT_TEXT = "Error 502: upstream timed out after 30 s (request id 4f2a)"
JPEG_SIZE = (4000, 3000)  # 12 megapixels, stored landscape with EXIF orientation 6 (shown portrait)
HEIC_SIZE = (4032, 3024)  # an iPhone's 12 MP photo


ZIP_DATE = (2026, 1, 2, 3, 4, 6)
CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def _repacked(content: bytes) -> bytes:
    """An Office file's ZIP again with fixed member dates and document dates: the same bytes every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "docProps/core.xml":
                data = CORE_DATES.sub(rb"\g<1>2026-01-02T03:04:05Z\g<2>", data)
            target.writestr(zipfile.ZipInfo(member.filename, ZIP_DATE), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _cached(function):
    """Build a fixture once per process; callers get the same (name, bytes)."""
    return functools.cache(function)


def _photo(size: tuple[int, int], grain: bool = True) -> Image.Image:
    """A photo-like picture: smooth gradients and shapes, with a red block in the stored top-left."""
    width, height = size
    small = Image.new("RGB", (64, 48))
    small.putdata([(x * 4, y * 5, (x + y) * 2) for y in range(48) for x in range(64)])
    image = small.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y = (i * 331) % width, (i * 197) % height
        draw.ellipse((x, y, x + width // 8, y + height // 8), fill=(40 + i * 15, 200 - i * 10, 90))
    # Sensor-like grain, seeded: a camera's JPEG of 12 MP weighs megabytes, not a few hundred kB.
    if grain:
        noise = Image.frombytes("RGB", size, random.Random(15).randbytes(width * height * 3))
        image = Image.blend(image, noise, 0.12)
    ImageDraw.Draw(image).rectangle((0, 0, width // 10, height // 10), fill=(255, 0, 0))
    return image


@_cached
def jpeg_12mp() -> tuple[str, bytes]:
    """A 4000x3000 camera JPEG with EXIF (orientation 6: turn 90° clockwise to show; a camera make)."""
    image = _photo(JPEG_SIZE)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x010F] = "FixtureCam"  # Make
    exif[0x0132] = "2026:01:02 03:04:05"  # DateTime
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return "IMG_0001.jpg", out.getvalue()


@_cached
def heic_photo() -> tuple[str, bytes]:
    """An iPhone-sized HEIC photo."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    # No grain: x265 takes half a minute over grain, five seconds without.
    _photo(HEIC_SIZE, grain=False).save(out, "HEIF", quality=70)
    return "IMG_0002.HEIC", out.getvalue()


@_cached
def png_screenshot() -> tuple[str, bytes]:
    """A 1280x800 screenshot: flat colours and a line of small text that downscaling would blur."""
    image = Image.new("RGB", SCREENSHOT_SIZE, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SCREENSHOT_SIZE[0], 40), fill=(32, 36, 44))
    draw.rectangle((40, 80, 900, 300), outline=(200, 40, 40), width=2, fill=(255, 240, 240))
    for line in range(20):
        text = SCREENSHOT_TEXT if line == 0 else f"  at frame {line}"
        draw.text((60, 100 + line * 9), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return "Screenshot 2026-01-02 at 03.04.05.png", out.getvalue()


@_cached
def webp_image() -> tuple[str, bytes]:
    """A small WebP picture."""
    out = io.BytesIO()
    _photo((640, 480)).save(out, "WEBP", quality=80)
    return "picture.webp", out.getvalue()


@_cached
def gif_animated() -> tuple[str, bytes]:
    """A three-frame GIF whose first frame is red (only that one is kept)."""
    frames = [Image.new("RGB", (120, 80), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return "spinner.gif", out.getvalue()


@_cached
def png_transparent() -> tuple[str, bytes]:
    """A 3000x1000 logo with transparency: it stays PNG, downscaled to 2048 wide."""
    image = Image.new("RGBA", (3000, 1000), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 100, 2900, 900), fill=(20, 120, 220, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return "logo.png", out.getvalue()


def _pdf(pages: list[str]):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return pdf


@_cached
def pdf_200_pages() -> tuple[str, bytes]:
    """A 200-page report with a text layer; each page names its number."""
    body = " ".join(["The figures below are unaudited."] * 20)
    pages = [PDF_PAGE_TEXT.format(n=n, q=(n - 1) % 4 + 1) + "\n" + body for n in range(1, PDF_PAGES + 1)]
    return "annual-report.pdf", bytes(_pdf(pages).output())


@_cached
def pdf_small() -> tuple[str, bytes]:
    """A two-page PDF with text."""
    return "memo.pdf", bytes(_pdf(["First page of the memo.", "Second page of the memo."]).output())


@_cached
def pdf_scanned() -> tuple[str, bytes]:
    """A scan: a picture of a page saved as PDF by Pillow, with no text layer."""
    page = Image.new("RGB", (850, 1100), (255, 255, 255))
    ImageDraw.Draw(page).text((80, 80), "A scanned letter with no text layer", fill=(0, 0, 0))
    out = io.BytesIO()
    page.save(
        out,
        "PDF",
        resolution=100.0,
        creationDate=FIXED_DATE.utctimetuple(),
        modDate=FIXED_DATE.utctimetuple(),
    )
    return "scan.pdf", out.getvalue()


@_cached
def pdf_encrypted() -> tuple[str, bytes]:
    """A PDF that needs a password to open."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_small()[1])).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return "locked.pdf", out.getvalue()


@_cached
def docx_report() -> tuple[str, bytes]:
    """A Word document: a heading, a paragraph and a table."""
    from docx import Document

    document = Document()
    document.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    document.add_heading(DOCX_HEADING, level=1)
    document.add_paragraph(DOCX_PARAGRAPH)
    table = document.add_table(rows=len(DOCX_TABLE), cols=len(DOCX_TABLE[0]))
    for r, row in enumerate(DOCX_TABLE):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return "review.docx", _repacked(out.getvalue())


@_cached
def xlsx_two_sheets() -> tuple[str, bytes]:
    """A workbook with two sheets, Summary and Detail."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.properties.created = FIXED_DATE.replace(tzinfo=None)
    summary = workbook.active
    summary.title = "Summary"
    for row in XLSX_SHEETS["Summary"]:
        summary.append(row)
    detail = workbook.create_sheet("Detail")
    for row in XLSX_SHEETS["Detail"]:
        detail.append(row)
    for day in range(1, XLSX_DETAIL_ROWS + 1):
        detail.append([f"2026-01-{day:02d}", day * 3])
    out = io.BytesIO()
    workbook.save(out)
    return "figures.xlsx", _repacked(out.getvalue())


def csv_table() -> tuple[str, bytes]:
    """A small CSV."""
    return "amounts.csv", CSV_TEXT.encode()


def markdown_notes() -> tuple[str, bytes]:
    """A Markdown file."""
    return "notes.md", b"# Notes\n\n- first\n- second\n"


def utf16_text() -> tuple[str, bytes]:
    """Plain text in UTF-16 with its BOM (as Windows' Notepad may save it)."""
    return "windows.txt", "Grüße aus Wien\r\n".encode("utf-16")


def html_page() -> tuple[str, bytes]:
    """An HTML page with a script: taken as text, never served as HTML."""
    page = "<!doctype html><html><body><h1>Hello</h1><script>alert(document.cookie)</script></body></html>\n"
    return "page.html", page.encode()


def svg_with_script() -> tuple[str, bytes]:
    """An SVG with a script: taken as text, never served as an image."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        "<script>alert(document.domain)</script><rect width='10' height='10'/></svg>\n"
    )
    return "drawing.svg", svg.encode()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb() -> tuple[str, bytes]:
    """A tiny PNG whose header declares 30000x30000 pixels (900 megapixels): a decompression bomb."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 8-bit RGB
    data = zlib.compress(b"\0" * 1024)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
    return "bomb.png", png + _png_chunk(b"IEND", b"")


def pdf_named_jpg() -> tuple[str, bytes]:
    """A PDF whose name says it is a photo: taken as the PDF it is."""
    return "photo.jpg", pdf_small()[1]


def binary_named_txt() -> tuple[str, bytes]:
    """An executable whose name says it is text: refused."""
    elf = b"\x7fELF\x02\x01\x01\0" + b"\0" * 8 + bytes(range(256)) * 4
    return "notes.txt", elf


def zip_bomb_docx() -> tuple[str, bytes]:
    """A 'DOCX' whose document.xml inflates to 300 MB from a few hundred kilobytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", ZIP_DATE), "<Types/>")
        document = zipfile.ZipInfo("word/document.xml", ZIP_DATE)
        document.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(document, "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                member.write(chunk)
    return "bomb.docx", out.getvalue()


def plain_zip() -> tuple[str, bytes]:
    """A ZIP archive that is no Office document: refused."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("readme.txt", ZIP_DATE), "hello")
    return "archive.zip", out.getvalue()


# What the issue names, by role: every one is uploaded in tests/attachments/test_uploads.py.
ACCEPTED = {
    "jpeg_12mp": jpeg_12mp,
    "heic_photo": heic_photo,
    "png_screenshot": png_screenshot,
    "pdf_200_pages": pdf_200_pages,
    "docx_report": docx_report,
    "xlsx_two_sheets": xlsx_two_sheets,
    "csv_table": csv_table,
    "html_page": html_page,
    "svg_with_script": svg_with_script,
    "pdf_named_jpg": pdf_named_jpg,
}
REFUSED = {  # fixture: (status, code)
    "pdf_scanned": (400, "no_text_layer"),
    "png_bomb": (400, "image_too_large"),
    "binary_named_txt": (415, "unsupported_type"),
}
ALL = {
    **ACCEPTED,
    **{name: globals()[name] for name in REFUSED},
    "webp_image": webp_image,
    "gif_animated": gif_animated,
    "png_transparent": png_transparent,
    "pdf_small": pdf_small,
    "pdf_encrypted": pdf_encrypted,
    "markdown_notes": markdown_notes,
    "utf16_text": utf16_text,
    "zip_bomb_docx": zip_bomb_docx,
    "plain_zip": plain_zip,
}


def write_all(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write the fixtures (all, or those named) into folder; their paths by fixture name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key in names or list(ALL):
        filename, content = ALL[key]()
        path = folder / key / filename  # a folder each: two fixtures may share a file name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        paths[key] = path
    return paths
