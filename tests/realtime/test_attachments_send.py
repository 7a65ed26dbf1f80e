"""A send's attachments (issue 15, items 3, 4, 7, 8): the sender's own, checked against the model before
anything is saved or sent, carried upstream as list content part by part, kept by edits and regenerations,
and counted in usage by the images' sizes."""

from __future__ import annotations

import base64
import io

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from PIL import Image

from chat.models import Attachment, ChatModel, Message, MessageAttachment
from chat.upstream import tokens
from tests.conftest import chat_requests
from tests.ws import connected, frames_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

VISION, TEXT_ONLY = "gpt-4.1", "o3-mini"


def png(size: tuple[int, int] = (800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def image_of(owner, size: tuple[int, int] = (800, 600), name: str = "screen.png") -> Attachment:
    data = png(size)
    return Attachment.objects.create(
        owner=owner,
        name=name,
        kind=Attachment.Kind.IMAGE,
        content_type="image/png",
        size=len(data),
        file=ContentFile(data, name="image.png"),
        width=size[0],
        height=size[1],
        tokens=tokens.image_tokens(*size),
    )


def pages_text(pages: int, words: int = 120) -> str:
    return "".join(
        f"--- Page {n} ---\n" + " ".join(f"page{n}word{i}" for i in range(words)) + "\n"
        for n in range(1, pages + 1)
    )


def document_of(owner, text: str, name: str = "report.pdf", pages: int | None = None) -> Attachment:
    return Attachment.objects.create(
        owner=owner,
        name=name,
        kind=Attachment.Kind.DOCUMENT,
        content_type="application/pdf",
        size=len(text),
        file=ContentFile(b"%PDF-1.7 stand-in", name="document.pdf"),
        text=ContentFile(text.encode(), name="text.txt"),
        pages=pages,
        tokens=tokens.text_tokens(text),
    )


def sent(frame: dict, attachments: list) -> dict:
    return {**frame, "attachments": attachments}


def started_in(frames: list[dict]) -> dict:
    """The `started` among the frames (a title of the reply before may come first)."""
    return next(frame for frame in frames if frame["type"] == "started")


def last_user_content(fake):
    return chat_requests(fake)[-1].body["messages"][-1]["content"]


@pytest_asyncio.fixture
async def socket(alice, team_key, fake):
    opened = await connected(alice)
    yield opened
    await opened.disconnect()


async def test_an_image_goes_to_a_vision_model_as_a_data_url_part(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("What is on it?", model=VISION), [image.pk]))
    frames = await frames_until(socket, "done")
    started = started_in(frames)
    text, picture = last_user_content(fake)
    assert text == {"type": "text", "text": "What is on it?"}
    assert picture["type"] == "image_url"
    url = picture["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.partition(",")[2]) == png()
    assert "I see 1 image (800\u00d7600)" in "".join(f["content"] for f in frames if f["type"] == "delta")
    (described,) = started["attachments"]
    assert described | {"url": None, "thumbnail": None} == {
        "id": image.pk,
        "name": "screen.png",
        "kind": "image",
        "size": image.size,
        "tokens": image.tokens,
        "width": 800,
        "height": 600,
        "pages": None,
        "excerpt": "",
        "content_type": "image/png",
        "url": None,
        "thumbnail": None,
    }
    assert described["url"] == f"/api/attachments/{image.pk}/"
    await sync_to_async(image.refresh_from_db)()
    assert image.conversation_id == started["conversation"]
    link = await sync_to_async(MessageAttachment.objects.get)()
    assert (link.message_id, link.position) == (started["user_message"], 0)
    assert all(r.status == 200 for r in fake.requests)


async def test_a_message_of_images_alone_is_sent_and_named_for_them(socket, alice, fake):
    first, second = await sync_to_async(lambda: (image_of(alice), image_of(alice, (300, 200), "b.png")))()
    await socket.send_json_to(sent(send_frame("", model=VISION), [first.pk, second.pk]))
    started = started_in(await frames_until(socket, "done"))
    content = last_user_content(fake)
    assert [part["type"] for part in content] == ["image_url", "image_url"]  # no empty text part
    assert started["title"] == "screen.png, b.png"
    assert [item["id"] for item in started["attachments"]] == [first.pk, second.pk]


async def test_a_message_without_attachments_still_goes_as_plain_text(socket, fake):
    await socket.send_json_to(send_frame("Hello", model=VISION))
    started = started_in(await frames_until(socket, "done"))
    assert last_user_content(fake) == "Hello"
    assert "attachments" not in started


async def test_a_document_that_fits_goes_whole_as_a_text_part_that_names_it(socket, alice, fake):
    text = pages_text(3)
    document = await sync_to_async(document_of)(alice, text, pages=3)
    await socket.send_json_to(sent(send_frame("Summarise", model=VISION), [document.pk]))
    frames = await frames_until(socket, "done")
    question, attached = last_user_content(fake)
    assert question == {"type": "text", "text": "Summarise"}
    assert attached == {"type": "text", "text": f'Attached file "report.pdf" (3 pages):\n\n{text}'}
    reply = "".join(f["content"] for f in frames if f["type"] == "delta")
    assert f"1 document: report.pdf (3 pages, {len(text):,} characters)" in reply


@pytest.fixture
def small_window(db):
    """gpt-4.1-mini reading 4,000 tokens: a document takes at most 2,000 of them."""
    ChatModel.objects.filter(name="gpt-4.1-mini").update(context_window=4000)


async def test_a_long_document_is_refused_with_how_much_fits_then_sent_in_part(
    socket, alice, fake, small_window
):
    text = pages_text(30)
    document = await sync_to_async(document_of)(alice, text, pages=30)
    frame = send_frame("Read it", model="gpt-4.1-mini")
    await socket.send_json_to(sent(frame, [document.pk]))
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("too_large", "c1")
    assert (error["attachment"], error["tokens"], error["fits"]) == (document.pk, document.tokens, 2000)
    assert error["message"].startswith(f"report.pdf is about {document.tokens:,} tokens; this model takes")
    assert chat_requests(fake) == [] and not await sync_to_async(Message.objects.exists)()

    await socket.send_json_to(sent(frame, [{"id": document.pk, "excerpt": "first"}]))
    await frames_until(socket, "done")
    part = last_user_content(fake)[1]["text"]
    assert part.startswith('Attached file "report.pdf" (30 pages; only its first part is included):\n\n')
    assert "--- Page 1 ---" in part and "--- Page 30 ---" not in part
    assert 1500 < tokens.text_tokens(part) <= 2000 + 30
    conversation = (await sync_to_async(Message.objects.first)()).conversation_id

    pages = {"id": document.pk, "excerpt": "2-3,5"}
    await socket.send_json_to(sent(send_frame("And these", conversation, "c2"), [pages]))
    await frames_until(socket, "done")
    part = last_user_content(fake)[1]["text"]
    assert part.startswith('Attached file "report.pdf" (30 pages; only pages 2-3, 5 are included):\n\n')
    kept = [f"--- Page {n} ---" in part for n in range(1, 7)]
    assert kept == [False, True, True, False, True, False]
    # The history replays each excerpt as it was chosen.
    first_part = chat_requests(fake)[-1].body["messages"][0]["content"][1]["text"]
    assert "only its first part" in first_part

    await socket.send_json_to(
        sent(send_frame("All", conversation, "c3"), [{"id": document.pk, "excerpt": "1-30"}])
    )
    error = (await frames_until(socket, "error"))[-1]
    assert (error["code"], error["attachment"], error["fits"]) == ("too_large", document.pk, 2000)
    assert error["message"].startswith("report.pdf (1-30) is about")


async def test_pages_a_document_does_not_have_are_a_bad_request(socket, alice, fake, small_window):
    document = await sync_to_async(document_of)(alice, pages_text(30), pages=30)
    await socket.send_json_to(
        sent(send_frame("x", model="gpt-4.1-mini"), [{"id": document.pk, "excerpt": "40"}])
    )
    error = await socket.receive_json_from()
    assert (error["code"], error["message"]) == ("bad_request", "report.pdf has 30 pages: name others.")
    assert chat_requests(fake) == []


async def test_an_excerpt_of_an_image_is_a_bad_request(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("x", model=VISION), [{"id": image.pk, "excerpt": "first"}]))
    error = await socket.receive_json_from()
    assert (error["code"], error["message"]) == (
        "bad_request",
        "screen.png is an image: an excerpt is for a document.",
    )
    assert chat_requests(fake) == []


async def test_an_image_for_a_text_only_model_is_refused_before_any_call(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("Look", model=TEXT_ONLY), [image.pk]))
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("attachment_unsupported", "c1")
    assert error["message"].startswith("o3-mini does not take images. Choose a model that does: gpt-5.4")
    assert chat_requests(fake) == [] and not await sync_to_async(Message.objects.exists)()
    await sync_to_async(image.refresh_from_db)()
    assert image.conversation_id is None


async def test_images_in_the_history_are_refused_for_a_text_only_model(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("Look", model=VISION), [image.pk]))
    conversation = started_in(await frames_until(socket, "done"))["conversation"]
    messages = await sync_to_async(Message.objects.count)()

    await socket.send_json_to(send_frame("And now?", conversation, "c2", model=TEXT_ONLY))
    error = (await frames_until(socket, "error"))[-1]  # after the first reply's title
    assert error["code"] == "attachment_unsupported"
    assert error["message"].startswith("This conversation holds images, and o3-mini does not take images.")
    assert len(chat_requests(fake)) == 1 and all(r.status == 200 for r in fake.requests)
    assert await sync_to_async(Message.objects.count)() == messages


async def test_another_members_attachment_or_an_unknown_one_is_not_found(socket, alice, bob, fake):
    theirs = await sync_to_async(image_of)(bob)
    for attachments in ([theirs.pk], ["no-such-attachment"]):
        await socket.send_json_to(sent(send_frame("Look", model=VISION), attachments))
        error = await socket.receive_json_from()
        assert (error["code"], error["message"]) == ("not_found", "No such attachment.")
    assert chat_requests(fake) == [] and not await sync_to_async(Message.objects.exists)()


async def test_an_attachment_sent_in_one_conversation_is_not_found_in_another(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("One", model=VISION), [image.pk]))
    conversation = started_in(await frames_until(socket, "done"))["conversation"]
    # Again in the same conversation: fine.
    await socket.send_json_to(sent(send_frame("Again", conversation, "c2"), [image.pk]))
    await frames_until(socket, "done")
    await socket.send_json_to(sent(send_frame("Elsewhere", None, "c3", model=VISION), [image.pk]))
    error = (await frames_until(socket, "error"))[-1]
    assert error["code"] == "not_found"
    assert len(chat_requests(fake)) == 2


async def test_an_edit_keeps_the_attachments_unless_given_a_list(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("Look", model=VISION), [image.pk]))
    started = started_in(await frames_until(socket, "done"))
    edit = {"edit": started["user_message"]}

    await socket.send_json_to({**send_frame("Look closer", started["conversation"], "c2"), **edit})
    kept = started_in(await frames_until(socket, "done"))
    assert [part["type"] for part in last_user_content(fake)] == ["text", "image_url"]
    assert [item["id"] for item in kept["attachments"]] == [image.pk]
    links = MessageAttachment.objects.filter(message_id=kept["user_message"]).values_list("attachment_id")
    assert await sync_to_async(list)(links) == [(image.pk,)]

    await socket.send_json_to({**sent(send_frame("No picture", started["conversation"], "c3"), []), **edit})
    replaced = started_in(await frames_until(socket, "done"))
    assert last_user_content(fake) == "No picture"
    assert "attachments" not in replaced


async def test_regenerate_sends_the_questions_attachments_again(socket, alice, fake):
    image = await sync_to_async(image_of)(alice)
    await socket.send_json_to(sent(send_frame("Look", model=VISION), [image.pk]))
    started = started_in(await frames_until(socket, "done"))
    regenerate = {
        "type": "regenerate",
        "id": "r1",
        "conversation": started["conversation"],
        "message": started["message"],
    }
    await socket.send_json_to(regenerate)
    again = started_in(await frames_until(socket, "done"))
    assert [part["type"] for part in last_user_content(fake)] == ["text", "image_url"]
    assert [item["id"] for item in again["attachments"]] == [image.pk]
    assert len(chat_requests(fake)) == 2


async def test_the_usage_estimate_counts_an_image_by_its_size_not_its_base64(socket, alice, fake):
    image = await sync_to_async(image_of)(alice, (2000, 1500))
    await socket.send_json_to(sent(send_frame("Look [fake:no_usage]", model=VISION), [image.pk]))
    done = (await frames_until(socket, "done"))[-1]
    assert done["usage_estimated"] is True
    data_url = last_user_content(fake)[1]["image_url"]["url"]
    prompt = done["usage"]["prompt_tokens"]
    assert tokens.image_tokens(2000, 1500) < prompt < tokens.image_tokens(2000, 1500) + 30
    assert prompt < len(data_url) // 4


async def test_the_upstreams_count_includes_the_image(socket, alice, fake):
    image = await sync_to_async(image_of)(alice, (2000, 1500))
    await socket.send_json_to(sent(send_frame("Look", model=VISION), [image.pk]))
    done = (await frames_until(socket, "done"))[-1]
    assert done["usage_estimated"] is False
    assert done["usage"]["prompt_tokens"] > tokens.image_tokens(2000, 1500)


@pytest.mark.parametrize(
    "attachments",
    [
        "an-id",
        [1],
        [None],
        ["a", "a"],
        ["a\x00b"],
        [""],
        ["x" * 33],
        [{"excerpt": "first"}],
        [{"id": "a", "excerpt": "last"}],
        [{"id": "a", "excerpt": "0-3"}],
        [{"id": "a", "excerpt": "5-2"}],
        [{"id": "a", "excerpt": "1-999999"}],
        [{"id": "a", "excerpt": "1,\x00"}],
        [f"id{n}" for n in range(11)],
    ],
)
async def test_odd_attachments_are_a_bad_request(socket, fake, attachments):
    await socket.send_json_to(sent(send_frame("Hi", model=VISION), attachments))
    error = await socket.receive_json_from()
    assert (error["code"], error["id"]) == ("bad_request", "c1")
    assert chat_requests(fake) == []


async def test_no_text_and_no_attachments_is_still_a_bad_request(socket, fake):
    await socket.send_json_to(sent(send_frame("  ", model=VISION), []))
    error = await socket.receive_json_from()
    assert (error["code"], error["message"]) == ("bad_request", "content must be some text.")


# Through the real upload (chat/attachments/), with the generated fixtures ----------------------------


def uploaded(user, *fixtures) -> list[str]:
    """Upload fixtures of tests/attachments/fixtures.py as the member's browser does; their ids."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    ids = []
    for fixture in fixtures:
        name, content = fixture()
        response = client.post("/api/attachments/", {"file": SimpleUploadedFile(name, content)})
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


async def test_uploaded_photos_and_documents_go_upstream_part_by_part(socket, alice, fake):
    from tests.attachments import fixtures

    chosen = (fixtures.jpeg_12mp, fixtures.png_screenshot, fixtures.xlsx_two_sheets, fixtures.pdf_200_pages)
    ids = await sync_to_async(uploaded)(alice, *chosen)
    await socket.send_json_to(sent(send_frame("Compare them", model=VISION), ids))
    frames = await frames_until(socket, "done")
    question, photo, screenshot, workbook, report = last_user_content(fake)
    assert question == {"type": "text", "text": "Compare them"}
    sizes = [tokens.data_url_size(part["image_url"]["url"]) for part in (photo, screenshot)]
    assert sizes == [(1536, 2048), fixtures.SCREENSHOT_SIZE]  # upright, long edge 2048, never upscaled
    assert workbook["text"].startswith('Attached file "figures.xlsx" (2 sheets):\n\n--- Sheet: Summary ---')
    assert report["text"].startswith('Attached file "annual-report.pdf" (200 pages):\n\n--- Page 1 ---')
    assert "--- Page 200 ---" in report["text"]
    reply = "".join(f["content"] for f in frames if f["type"] == "delta")
    assert reply.startswith(
        "I see 2 images (1536\u00d72048, 1280\u00d7800) and 2 documents: figures.xlsx (2 sheets,"
    )
    assert {r.status for r in fake.requests} == {200}  # (a title request may have followed)


async def test_pages_and_sheets_of_uploaded_documents_are_sent_by_number(socket, alice, fake, small_window):
    from tests.attachments import fixtures

    report, workbook = await sync_to_async(uploaded)(alice, fixtures.pdf_200_pages, fixtures.xlsx_two_sheets)
    frame = send_frame("Read", model="gpt-4.1-mini")
    await socket.send_json_to(sent(frame, [report]))
    error = await socket.receive_json_from()
    assert (error["code"], error["attachment"], error["fits"]) == ("too_large", report, 2000)

    await socket.send_json_to(
        sent(frame, [{"id": report, "excerpt": "1-5,9"}, {"id": workbook, "excerpt": "2"}])
    )
    await frames_until(socket, "done")
    _, pages, sheet = last_user_content(fake)
    sent_pages = [n for n in range(1, 201) if f"--- Page {n} ---\n" in pages["text"]]
    assert sent_pages == [1, 2, 3, 4, 5, 9]
    assert "--- Sheet: Detail ---" in sheet["text"] and "Summary" not in sheet["text"]
    assert sheet["text"].startswith('Attached file "figures.xlsx" (2 sheets; only sheet 2 is included):')
    assert {r.status for r in fake.requests} == {200}  # (a title request may have followed)


async def test_a_messages_documents_share_half_the_window(socket, alice, fake, small_window):
    """Three documents each under half the window would overflow it together: the upstream's 400."""
    a, b, c = [
        await sync_to_async(document_of)(alice, pages_text(4), name=f"{n}.pdf", pages=4) for n in "abc"
    ]
    assert 1000 < a.tokens <= 2000
    frame = send_frame("Compare [fake:window=4000]", model="gpt-4.1-mini")
    await socket.send_json_to(sent(frame, [a.pk, b.pk, c.pk]))
    error = await socket.receive_json_from()
    assert (error["code"], error["attachment"], error["tokens"]) == ("too_large", b.pk, b.tokens)
    assert error["fits"] == 2000 - a.tokens and "the others take" in error["message"]
    assert chat_requests(fake) == []

    firsts = [a.pk, {"id": b.pk, "excerpt": "first"}, {"id": c.pk, "excerpt": "first"}]
    await socket.send_json_to(sent(frame, firsts))
    await frames_until(socket, "done")
    assert [r.status for r in fake.requests] == [200]
    _, whole, *shared = last_user_content(fake)
    assert tokens.text_tokens(whole["text"]) > a.tokens
    share = (2000 - a.tokens) // 2
    assert all(tokens.text_tokens(part["text"].partition(":\n\n")[2]) <= share for part in shared)
