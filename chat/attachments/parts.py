"""What a message's attachments add to its request: the content parts of Chat Completions' list content
(the message's text first, then an `image_url` part per image and a text part per document, in the
member's order), and the excerpt of a long document.

A document goes whole when its text fits in half of the model's context window (`document_room`);
otherwise the member chose an excerpt at send time: "first" (the first pages, then lines, that fit),
or pages such as "1-5,9" (sheets by number for a workbook). Never a silent retrieval of chunks. The
half is the message's, not each document's: three documents of 40% of the window each would make a
request the upstream refuses, so a "first" excerpt takes what the message's other documents leave.

No model is imported here (chat.models imports this module): the attachments and their links come in
as the rows they are.
"""

from __future__ import annotations

import base64
import re

from chat.upstream import tokens

# H1's extracted text: each page or sheet starts with one of these lines (chat/attachments/).
PAGE_MARK = re.compile(r"^--- (?:Page \d+|Sheet: .*) ---$", re.MULTILINE)
SHEET_MARK = re.compile(r"^--- Sheet: .* ---$", re.MULTILINE)
PAGE_RANGE = re.compile(r"^(\d{1,6})(?:-(\d{1,6}))?$")
FIRST = "first"
MAX_PAGES_NAMED = 10_000  # pages a spec such as "1-100000" may name: past it, a bad request
CHARS_PER_TOKEN_AT_MOST = 12  # a prefix this many characters a token surely holds `room` tokens
IMAGE_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
)


def document_room(window: int | None) -> int | None:
    """The most a document may add to a request: half of the model's window (None: not known)."""
    return window // 2 if window else None


def parse_pages(spec: str) -> list[int] | None:
    """The pages a spec such as "1-5,9" names, in order, each once; None when it is not one."""
    pages: list[int] = []
    for piece in spec.split(","):
        matched = PAGE_RANGE.match(piece.strip())
        if matched is None:
            return None
        first = int(matched[1])
        last = int(matched[2] or first)
        if first < 1 or last < first or len(pages) + last - first + 1 > MAX_PAGES_NAMED:
            return None
        pages.extend(range(first, last + 1))
    return sorted(set(pages))


def valid_excerpt(excerpt: str) -> bool:
    return excerpt == FIRST or parse_pages(excerpt) is not None


def split_pages(text: str) -> list[str]:
    """A document's text page by page (or sheet by sheet), each with its marker; [] without markers."""
    starts = [found.start() for found in PAGE_MARK.finditer(text)]
    if not starts:
        return []
    starts[0] = 0  # anything before the first marker goes with the first page
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


def first_part(text: str, room: int | None) -> str:
    """The first pages, then lines, of a text that fit in `room` tokens."""
    if room is None:
        return text
    prefix = text[: room * CHARS_PER_TOKEN_AT_MOST]
    encoded = tokens.encoding().encode_ordinary(prefix)
    if len(encoded) <= room:
        return prefix
    part = tokens.encoding().decode(encoded[:room])
    # Cut at a line's end when there is one in the second half: a line is not left half said.
    line_end = part.rfind("\n")
    return part[: line_end + 1] if line_end > len(part) // 2 else part


class NoPages(ValueError):
    """Pages named of a document that has none, or none of those named."""


def chosen_text(text: str, excerpt: str, room: int | None) -> str:
    """What of a document's text goes for its excerpt ("" is all of it)."""
    if not excerpt:
        return text
    if excerpt == FIRST:
        return first_part(text, room)
    pages = split_pages(text)
    named = parse_pages(excerpt) or []
    chosen = [pages[number - 1] for number in named if number <= len(pages)]
    if not chosen:
        raise NoPages(excerpt)
    return "".join(chosen)


def read_text(attachment) -> str:
    """A document's extracted text (UTF-8, with its markers); "" when it has none."""
    if not attachment.text:
        return ""
    with attachment.text.open("rb") as stored:
        return stored.read().decode("utf-8", errors="replace")


def sheets(text: str) -> bool:
    return bool(SHEET_MARK.search(text))


def document_header(attachment, text: str, excerpt: str) -> str:
    """The line that names a document before its text: 'Attached file "report.pdf" (200 pages):'."""
    what = []
    if attachment.pages:
        unit = "sheet" if sheets(text) else "page"
        what.append(f"{attachment.pages} {unit}{'s' if attachment.pages != 1 else ''}")
    if excerpt == FIRST:
        what.append("only its first part is included")
    elif excerpt:
        unit = "sheet" if sheets(text) else "page"
        if len(parse_pages(excerpt) or ()) == 1:
            what.append(f"only {unit} {excerpt} is included")
        else:
            what.append(f"only {unit}s {excerpt.replace(',', ', ')} are included")
    said = f" ({'; '.join(what)})" if what else ""
    return f'Attached file "{attachment.name}"{said}:\n\n'


def sent_size(link, room: int | None) -> int:
    """The tokens of a document sent whole or by pages (NoPages when none of those pages exist)."""
    if not link.excerpt:
        return link.attachment.tokens
    return tokens.text_tokens(chosen_text(read_text(link.attachment), link.excerpt, room))


def first_room(links: list, room: int | None) -> int | None:
    """What a "first" excerpt may take: half the window less the message's other documents, shared."""
    documents = [link for link in links if not is_image(link.attachment)]
    firsts = sum(1 for link in documents if link.excerpt == FIRST)
    if room is None or not firsts:
        return room
    others = 0
    for link in documents:
        if link.excerpt != FIRST:
            try:
                others += sent_size(link, room)
            except NoPages:  # replayed as all of it (document_part)
                others += link.attachment.tokens
    return max(room - others, 0) // firsts


def document_part(attachment, excerpt: str, room: int | None) -> dict:
    text = read_text(attachment)
    try:
        chosen = chosen_text(text, excerpt, room)
    except NoPages:  # a replay of pages the text no longer has: what there is, rather than nothing
        chosen = text
    return {"type": "text", "text": document_header(attachment, text, excerpt) + chosen}


def image_type(data: bytes, claimed: str) -> str:
    """An image's media type from its first bytes (the stored, re-encoded file), else as recorded."""
    for magic, media_type in IMAGE_TYPES:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return claimed or "image/jpeg"


def image_part(attachment) -> dict:
    with attachment.file.open("rb") as stored:
        data = stored.read()
    url = f"data:{image_type(data, attachment.content_type)};base64,{base64.b64encode(data).decode()}"
    return {"type": "image_url", "image_url": {"url": url}}


def is_image(attachment) -> bool:
    return attachment.kind == "image"


def content(text: str, links: list, room: int | None) -> list[dict]:
    """A user message's list content: its text first (when it has some), then its attachments in order."""
    parts = [{"type": "text", "text": text}] if text else []
    first = first_room(links, room)
    for link in links:
        attachment = link.attachment
        if is_image(attachment):
            parts.append(image_part(attachment))
        else:
            parts.append(document_part(attachment, link.excerpt, first if link.excerpt == FIRST else room))
    return parts


def tokens_of(links: list, room: int | None) -> int:
    """What the attachments add to a request, from their stored estimates (an excerpt counted afresh)."""
    total = 0
    first = first_room(links, room)
    for link in links:
        attachment = link.attachment
        if is_image(attachment):
            total += attachment.tokens or tokens.image_tokens(attachment.width, attachment.height)
        elif not link.excerpt:
            total += attachment.tokens
        else:
            chosen = first if link.excerpt == FIRST else room
            total += tokens.text_tokens(document_part(attachment, link.excerpt, chosen)["text"])
    return total
