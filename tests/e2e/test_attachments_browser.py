"""Attachments in the chat page, in Debian's Chromium against a live site: the paperclip, a drop and a
paste each make a chip that uploads with a progress bar; a chip can be removed; Send waits for the
uploads and sends their ids; the question shows its thumbnail, live and after a reload, and the
lightbox its full image; an image for a model that cannot see is held back with a way out; a document
too long for the model asks what to send; another member cannot fetch the file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.attachments.fixtures import jpeg_12mp, pdf_small, png_screenshot
from tests.e2e.pages import open_chat, sign_in
from tests.e2e.waits import transitions_done

SHOTS = Path("/tmp/shots")
IDLE = "() => !window.TokenOffChat.streaming && window.TokenOffChat.pending === null"
REDRAWN = (
    "() => !window.TokenOffChat.streaming && window.TokenOffChat.pending === null"
    " && !window.TokenOffChat.loading"
)
CHIP = "#attachment-list .attachment-chip"
DONE = f"{CHIP}[data-state=done]"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    transitions_done(page)
    page.screenshot(path=str(SHOTS / f"A-{name}.png"))


def record_frames(page, answer=None) -> list[dict]:
    """From the next page load on, every frame the page sends, in order; `answer(ws, frame)` may
    answer one itself (returning True) instead of passing it to the server."""
    sent: list[dict] = []

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            frame = json.loads(message)
            sent.append(frame)
            if answer is None or not answer(ws, frame):
                server.send(message)

        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/ws/chat/$"), route)
    return sent


def connected(page) -> None:
    page.wait_for_function("() => window.TokenOffChat && window.TokenOffChat.connected", timeout=10_000)


@pytest.fixture
def chat(browser, live, fake_server):
    fake_server.reset()
    context, page = open_chat(browser, live.base_url)
    page.sent = record_frames(page)
    page.reload()
    connected(page)
    yield page
    context.close()


def attach(page, *files: tuple[str, bytes], mime: str = "image/png") -> None:
    """Through the paperclip's file input, as a person choosing files would."""
    page.set_input_files("#attach-input", [{"name": n, "mimeType": mime, "buffer": b} for n, b in files])


def sends(page) -> list[dict]:
    return [f for f in page.sent if f.get("type") == "send"]


def test_the_paperclip_uploads_with_a_progress_bar_and_send_carries_the_id(chat):
    button = chat.locator("#attach-button")
    expect(button).to_have_attribute("aria-label", "Attach files")
    name, data = png_screenshot()
    attach(chat, (name, data))
    chip = chat.locator(CHIP)
    expect(chip).to_have_count(1)
    expect(chip.locator(".attachment-chip-name")).to_have_text(name)
    # The bar reports the upload's progress and ends at 100, then folds away.
    expect(chat.locator(DONE)).to_have_count(1)
    bar = chip.locator("[role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).to_be_hidden()
    # The preview is the server's thumbnail once uploaded (the object URL is let go).
    expect(chip.locator("img")).to_have_attribute("src", re.compile(r"^/api/attachments/[\w-]+/"))
    shot(chat, "chip-desktop")
    chat.fill("textarea[name=content]", "[fake:chunks=2] what does the screenshot say?")
    chat.press("textarea[name=content]", "Enter")  # Enter still sends
    chat.wait_for_function(IDLE, timeout=15_000)
    frame = sends(chat)[-1]
    assert isinstance(frame["attachments"], list) and len(frame["attachments"]) == 1
    attachment_id = frame["attachments"][0]
    # The chips go once the server took the message; the question shows the image.
    expect(chat.locator(CHIP)).to_have_count(0)
    expect(chat.locator("#attachment-tray")).to_be_hidden()
    thumb = chat.locator("article.message-user .attachment-thumb").last
    expect(thumb).to_have_attribute("href", f"/api/attachments/{attachment_id}/")
    expect(thumb.locator("img")).to_have_attribute("alt", name)
    assert chat.csp_violations == []


def test_the_token_meter_counts_the_files_waiting_to_be_sent(chat):
    meter = chat.locator("#token-meter")
    expect(meter).to_have_attribute("data-tokens", re.compile(r"^\d+$"))
    before = int(meter.get_attribute("data-tokens"))
    with chat.expect_response(lambda r: r.url.endswith("/api/attachments/") and r.status == 201) as upload:
        attach(chat, pdf_small(), mime="application/pdf")
    tokens = upload.value.json()["tokens"]
    assert tokens > 0
    expect(chat.locator(DONE)).to_have_count(1)
    expect(meter).to_have_attribute("data-tokens", str(before + tokens))
    # Removing the file takes its tokens off again.
    chat.locator(CHIP).get_by_role("button", name=re.compile("^Remove")).click()
    expect(chat.locator(CHIP)).to_have_count(0)
    expect(meter).to_have_attribute("data-tokens", str(before))


def test_the_paperclip_opens_the_file_chooser_from_the_keyboard(chat):
    button = chat.locator("#attach-button")
    button.focus()
    expect(button).to_be_focused()
    with chat.expect_file_chooser() as chooser:
        button.press("Enter")
    assert chooser.value.is_multiple()
    chooser.value.set_files([{"name": "keys.png", "mimeType": "image/png", "buffer": png_screenshot()[1]}])
    expect(chat.locator(DONE)).to_have_count(1)


def test_an_edit_keeps_removes_or_adds_the_questions_files(chat):
    name, data = png_screenshot()
    attach(chat, (name, data))
    expect(chat.locator(DONE)).to_have_count(1)
    chat.fill("textarea[name=content]", "[fake:chunks=2] first version")
    chat.press("textarea[name=content]", "Enter")
    chat.wait_for_function(IDLE, timeout=15_000)
    question = chat.locator("article.message-user").last
    question.locator("[data-message-action=edit]").click()
    form = chat.locator(".edit-form")
    # The form shows the question's file as a chip, and the paperclip to add more.
    expect(form.locator(".attachment-chip[data-state=done] .attachment-chip-name")).to_have_text(name)
    expect(form.locator(".attach-button")).to_be_visible()
    shot(chat, "edit-form")
    form.locator("textarea").fill("[fake:chunks=2] second version, same file")
    form.locator("button[type=submit]").click()
    # The reply on the new branch ends, then the page redraws the branch from the server: an edit form
    # opened before that redraw would go with the old transcript.
    chat.wait_for_function(REDRAWN, timeout=15_000)
    assert "attachments" not in sends(chat)[-1]  # unchanged: omitted, so the new version keeps them
    question = chat.locator("article.message-user").last
    expect(question.locator(".attachment-thumb img")).to_have_attribute("alt", name)
    # Removed in the form: the new version carries none.
    question.locator("[data-message-action=edit]").click()
    form = chat.locator(".edit-form")
    form.locator(".attachment-chip-remove").click()
    expect(form.locator(".attachment-chip")).to_have_count(0)
    form.locator("textarea").fill("[fake:chunks=2] third version, no file")
    form.locator("button[type=submit]").click()
    chat.wait_for_function(IDLE, timeout=15_000)
    assert sends(chat)[-1]["attachments"] == []
    expect(chat.locator("article.message-user").last.locator(".attachment-thumb")).to_have_count(0)


def test_send_waits_for_an_upload_and_says_why(chat):
    held = []
    chat.route("**/api/attachments/", lambda route: held.append(route))
    attach(chat, png_screenshot())
    chat.fill("textarea[name=content]", "wait for it")
    send = chat.locator("[data-action=send]")
    expect(send).to_be_disabled()
    expect(chat.locator("#attachment-status")).to_have_text("Waiting for the files to finish uploading…")
    expect(send).to_have_attribute("title", "Waiting for the files to finish uploading…")
    chat.press("textarea[name=content]", "Enter")
    assert sends(chat) == []  # nothing went out without the file
    chat.wait_for_function("() => true")  # (the route's handler has run: one round trip)
    assert len(held) == 1
    held[0].continue_()
    expect(chat.locator(DONE)).to_have_count(1)
    expect(send).to_be_enabled()
    expect(chat.locator("#attachment-status")).to_be_hidden()


def test_a_file_dropped_on_the_chat_shows_the_drop_target_then_a_chip(chat):
    data = png_screenshot()[1]
    chat.evaluate(
        """([b64, name]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          window.dropped = new DataTransfer();
          window.dropped.items.add(new File([bytes], name, { type: "image/png" }));
          const target = document.getElementById("transcript");
          const init = { bubbles: true, cancelable: true, dataTransfer: window.dropped };
          target.dispatchEvent(new DragEvent("dragenter", init));
          target.dispatchEvent(new DragEvent("dragover", init));
        }""",
        [base64.b64encode(data).decode(), "dropped.png"],
    )
    expect(chat.locator("#drop-target")).to_be_visible()
    expect(chat.locator("#drop-target")).to_have_text("Drop files to attach them")
    shot(chat, "drop-target")
    chat.evaluate(
        """() => document.getElementById("transcript").dispatchEvent(
          new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: window.dropped }))"""
    )
    expect(chat.locator("#drop-target")).to_be_hidden()
    expect(chat.locator(DONE)).to_have_count(1)
    expect(chat.locator(".attachment-chip-name")).to_have_text("dropped.png")


def test_a_pasted_screenshot_becomes_a_chip_and_pasted_text_stays_text(chat):
    data = png_screenshot()[1]
    box = chat.locator("textarea[name=content]")
    box.focus()
    chat.evaluate(
        """(b64) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], "image.png", { type: "image/png" }));
          document.getElementById("composer-input").dispatchEvent(
            new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: data }));
        }""",
        base64.b64encode(data).decode(),
    )
    expect(chat.locator(DONE)).to_have_count(1)
    expect(chat.locator(".attachment-chip-name")).to_have_text("image.png")
    assert box.input_value() == ""


def test_a_screenshot_alone_makes_a_message(chat):
    attach(chat, png_screenshot())
    expect(chat.locator(DONE)).to_have_count(1)
    send = chat.locator("[data-action=send]")
    expect(send).to_be_enabled()  # no text needed: the file is the message
    send.click()
    chat.wait_for_function(IDLE, timeout=15_000)
    assert sends(chat)[-1]["content"] == ""
    question = chat.locator("article.message-user").last
    expect(question.locator(".attachment-thumb")).to_have_count(1)
    expect(question.locator(".message-body")).to_be_hidden()  # no empty bubble


def test_a_12_megapixel_photo_uploads_without_freezing_the_page(chat, tmp_path):
    name, data = jpeg_12mp()
    assert len(data) > 3_000_000
    # From disk, as a person's file: a buffer would be decoded in the page by Playwright itself.
    photo = tmp_path / name
    photo.write_bytes(data)
    # Every task that holds the page's thread for more than 50 ms, from now on.
    chat.evaluate(
        """() => {
          window.longTasks = [];
          const note = (list) => window.longTasks.push(...list.getEntries().map((e) => e.duration));
          new PerformanceObserver(note).observe({ type: "longtask" });
        }"""
    )
    chat.set_input_files("#attach-input", photo)
    expect(chat.locator(DONE)).to_have_count(1, timeout=30_000)
    # The preview was an object URL (never the file read into the page), then the server's thumbnail.
    assert chat.evaluate("() => Math.max(0, ...window.longTasks)") < 500


def test_a_chip_removed_before_sending_is_not_sent(chat):
    attach(chat, png_screenshot(), ("second.png", png_screenshot()[1]))
    expect(chat.locator(DONE)).to_have_count(2)
    chat.locator(CHIP).first.locator(".attachment-chip-remove").click()
    expect(chat.locator(CHIP)).to_have_count(1)
    expect(chat.locator(".attachment-chip-name")).to_have_text("second.png")
    chat.locator(CHIP).locator(".attachment-chip-remove").press("Enter")  # keyboard works as well
    expect(chat.locator(CHIP)).to_have_count(0)
    expect(chat.locator("#attachment-tray")).to_be_hidden()
    chat.fill("textarea[name=content]", "[fake:chunks=2] no files after all")
    chat.press("textarea[name=content]", "Enter")
    chat.wait_for_function(IDLE, timeout=15_000)
    assert "attachments" not in sends(chat)[-1]


def test_an_eleventh_file_is_refused_in_the_page(chat):
    small = png_screenshot()[1]
    attach(chat, *[(f"shot-{i}.png", small) for i in range(11)])
    expect(chat.locator(CHIP)).to_have_count(10)
    expect(chat.locator("#attachment-notice")).to_have_text(
        "At most 10 files per message: shot-10.png was not added."
    )


def test_a_refused_upload_says_why_on_its_chip_and_holds_send(chat):
    attach(chat, ("notes.exe", b"MZ\x90\x00" + bytes(range(256)) * 4), mime="application/octet-stream")
    chip = chat.locator(f"{CHIP}[data-state=error]")
    expect(chip).to_have_count(1)
    expect(chip.locator(".attachment-chip-error")).to_have_text("This type of file cannot be attached.")
    chat.fill("textarea[name=content]", "try")
    expect(chat.locator("[data-action=send]")).to_be_disabled()
    chip.locator(".attachment-chip-remove").click()
    expect(chat.locator("[data-action=send]")).to_be_enabled()


def test_the_thumbnail_stays_after_a_reload_and_opens_the_full_image(chat):
    name, data = png_screenshot()
    attach(chat, (name, data))
    expect(chat.locator(DONE)).to_have_count(1)
    chat.fill("textarea[name=content]", "[fake:chunks=2] keep this")
    chat.press("textarea[name=content]", "Enter")
    chat.wait_for_function(IDLE, timeout=15_000)
    chat.reload()
    connected(chat)
    thumb = chat.locator("article.message-user .attachment-thumb").last
    image = thumb.locator("img")
    expect(image).to_have_attribute("alt", name)
    expect(image).to_have_attribute("loading", "lazy")
    # Its size is known before it loads: nothing below it moves.
    assert image.get_attribute("width") and image.get_attribute("height")
    chat.wait_for_function(
        "() => { const i = document.querySelector('article.message-user .attachment-thumb img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    shot(chat, "thumbnail-desktop")
    href = thumb.get_attribute("href")
    thumb.click()
    lightbox = chat.locator("dialog.lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator("img")).to_have_attribute("src", re.compile(re.escape(href) + "$"))
    expect(lightbox.locator("img")).to_have_attribute("alt", name)
    chat.wait_for_function("() => document.querySelector('dialog.lightbox img').naturalWidth > 0")
    shot(chat, "lightbox")
    chat.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    assert chat.evaluate("() => document.activeElement.classList.contains('attachment-thumb')")
    # A click outside the image closes it as well.
    thumb.click()
    expect(lightbox).to_be_visible()
    chat.mouse.click(5, 5)
    expect(lightbox).to_be_hidden()
    assert chat.csp_violations == []


def test_an_image_for_a_model_without_vision_is_held_back_with_a_way_out(chat):
    chat.select_option("#model-select", "o3-mini")
    attach(chat, png_screenshot())
    expect(chat.locator(DONE)).to_have_count(1)
    warning = chat.locator("#attachment-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("cannot read images")
    chat.fill("textarea[name=content]", "what is this?")
    chat.press("textarea[name=content]", "Enter")
    # Nothing is sent and nothing is lost: the text and the chip are still there.
    assert sends(chat) == []
    assert chat.input_value("textarea[name=content]") == "what is this?"
    expect(chat.locator(DONE)).to_have_count(1)
    shot(chat, "vision-warning")
    warning.locator("button.attachment-switch").click()
    expect(warning).to_be_hidden()
    assert chat.input_value("#model-select") != "o3-mini"


def test_the_servers_refusal_of_an_image_keeps_the_chips_and_the_text(browser, live, fake_server):
    def refuse(ws, frame):
        if frame.get("type") != "send":
            return False
        ws.send(
            json.dumps(
                {
                    "type": "error",
                    "id": frame["id"],
                    "code": "attachment_unsupported",
                    "message": "o3-mini cannot take images; gpt-4o can.",
                }
            )
        )
        return True

    context, page = open_chat(browser, live.base_url)
    try:
        record_frames(page, refuse)
        page.reload()
        connected(page)
        attach(page, png_screenshot())
        expect(page.locator(DONE)).to_have_count(1)
        page.fill("textarea[name=content]", "what is this?")
        page.press("textarea[name=content]", "Enter")
        expect(page.locator("#error-text")).to_have_text("o3-mini cannot take images; gpt-4o can.")
        assert page.input_value("textarea[name=content]") == "what is this?"
        expect(page.locator(DONE)).to_have_count(1)
    finally:
        context.close()


def test_a_document_too_long_for_the_model_asks_what_to_send(browser, live, fake_server):
    def too_long_once(ws, frame):
        if frame.get("type") != "send" or any(isinstance(a, dict) for a in frame.get("attachments", [])):
            return False
        ws.send(
            json.dumps(
                {
                    "type": "error",
                    "id": frame["id"],
                    "code": "too_large",
                    "message": "memo.pdf is too long.",
                    "attachment": frame["attachments"][0],
                    "tokens": 180_000,
                    "fits": 60_000,
                }
            )
        )
        return True

    context, page = open_chat(browser, live.base_url)
    try:
        sent = record_frames(page, too_long_once)
        page.reload()
        connected(page)
        attach(page, pdf_small(), mime="application/pdf")
        expect(page.locator(DONE)).to_have_count(1)
        page.fill("textarea[name=content]", "[fake:chunks=2] summarise the memo")
        page.press("textarea[name=content]", "Enter")
        chooser = page.locator(".attachment-chooser")
        expect(chooser).to_be_visible()
        expect(chooser).to_contain_text("memo.pdf is about 180,000 tokens; about 60,000 fit.")
        # Focus is on the first choice; a page list that is not one says so and sends nothing.
        assert page.evaluate("() => document.activeElement.textContent") == "Send the first part"
        page.fill(".attachment-chooser-pages", "one to five")
        page.press(".attachment-chooser-pages", "Enter")
        expect(page.locator(".attachment-chooser-error")).to_have_text("Write pages as 1-5,9.")
        shot(page, "chooser")
        page.fill(".attachment-chooser-pages", "1-2")
        page.press(".attachment-chooser-pages", "Enter")
        page.wait_for_function(IDLE, timeout=15_000)
        last = [f for f in sent if f.get("type") == "send"][-1]
        first = next(f for f in sent if f.get("type") == "send")
        assert last["attachments"] == [{"id": first["attachments"][0], "excerpt": "1-2"}]
        expect(page.locator(".attachment-chooser")).to_have_count(0)
    finally:
        context.close()


def test_another_member_gets_404_for_the_attachment(chat, browser, live):
    attach(chat, png_screenshot())
    expect(chat.locator(DONE)).to_have_count(1)
    url = chat.locator(f"{DONE} img").get_attribute("src")
    file_url = re.sub(r"thumbnail/$", "", url)
    assert chat.request.get(live.base_url + file_url).status == 200
    bob = browser.new_context()
    try:
        page = bob.new_page()
        sign_in(page, live.base_url, "bob")
        for address in (file_url, url):
            answer = page.request.get(live.base_url + address, max_redirects=0)
            assert answer.status == 404, (address, answer.status, answer.url, answer.text()[:300])
    finally:
        bob.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_chips_wrap_and_the_page_fits(browser, live, fake_server, scheme):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme)
    page = context.new_page()
    try:
        sign_in(page, live.base_url)
        connected(page)
        small = png_screenshot()[1]
        attach(page, ("a-long-screenshot-name-from-the-phone.png", small), ("b.png", small), ("c.png", small))
        expect(page.locator(DONE)).to_have_count(3)
        assert page.locator("#attach-button").is_visible()
        for width in (390, 360):
            page.set_viewport_size({"width": width, "height": 844})
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        shot(page, f"phone-chips-{scheme}")
        page.fill("textarea[name=content]", "[fake:chunks=2] from the phone")
        page.press("textarea[name=content]", "Enter")
        page.wait_for_function(IDLE, timeout=15_000)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        shot(page, f"phone-transcript-{scheme}")
    finally:
        context.close()
