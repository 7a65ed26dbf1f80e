"""List content (attachments) counted right: an image by its size as OpenAI counts it, never by the length
of its base64; in the prompt count, the usage estimate, the budget reservation and the context's fit."""

from __future__ import annotations

import base64
import io
import random

from PIL import Image

from chat.conversations import context
from chat.upstream import tokens
from chat.usage import accounting


def image_part(size: tuple[int, int], kind: str = "JPEG") -> dict:
    buffer = io.BytesIO()
    # Noise: a large file, so that counting its base64 as text would be far off.
    Image.frombytes("RGB", size, random.Random(1).randbytes(size[0] * size[1] * 3)).save(buffer, kind)
    url = f"data:image/{kind.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"
    return {"type": "image_url", "image_url": {"url": url}}


def test_image_tokens_follow_openais_high_detail_rule():
    assert tokens.image_tokens(1024, 1024) == 85 + 170 * 4  # 768 x 768: four tiles
    assert tokens.image_tokens(4096, 2048) == 85 + 170 * 6  # 2048 x 1024, then 1536 x 768
    assert tokens.image_tokens(100, 100) == 85 + 170  # never scaled up
    assert tokens.image_tokens(None, None) == tokens.IMAGE_UNREAD_TOKENS


def test_a_data_urls_size_is_read_from_its_header():
    for kind in ("PNG", "JPEG", "WEBP", "GIF"):
        assert tokens.data_url_size(image_part((300, 200), kind)["image_url"]["url"]) == (300, 200)
    assert tokens.data_url_size("data:image/png;base64,bm90IGFuIGltYWdl") is None
    assert tokens.data_url_size("https://example.com/a.png") is None


def test_a_message_with_an_image_counts_the_image_by_its_size():
    part = image_part((1000, 800), "JPEG")
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]}
    text_only = {"role": "user", "content": "What is this?"}
    counted = tokens.count_messages([message], "gpt-4.1").tokens
    assert counted - tokens.count_messages([text_only], "gpt-4.1").tokens == tokens.image_tokens(1000, 800)
    assert len(part["image_url"]["url"]) > 100 * counted


def test_the_usage_estimate_and_the_reservation_count_images_by_size():
    part = image_part((1600, 1200))
    history = [{"role": "user", "content": [{"type": "text", "text": "x" * 400}, part]}]
    image = tokens.image_tokens(1600, 1200)
    estimated = accounting.estimate(history, "")
    assert estimated.prompt_tokens == 100 + image + accounting.TOKENS_PER_MESSAGE
    reserved = accounting.input_tokens(history)
    assert reserved == accounting.TOKENS_PER_MESSAGE * 2 + 134 + image


def test_the_fit_sizes_a_message_by_its_attachments_and_reads_only_those_sent():
    rendered = []

    def render(row):
        rendered.append(row["id"])
        return [
            {"type": "text", "text": row["content"]},
            {"type": "image_url", "image_url": {"url": "data:,"}},
        ]

    rows = []
    for turn in range(10):
        question = {"id": turn * 2 + 1, "role": "user", "content": f"Q{turn}"}
        question |= {"attachments": ["an image"], "attachment_tokens": 1000}
        rows += [question, {"id": turn * 2 + 2, "role": "assistant", "content": "A"}]
    limits = context.Limits("gpt-4.1", window=8000, max_output=1000)
    fitted = context.fit(rows, "", limits, render=render)
    # 10 turns of about 1,000 tokens do not fit in 6,840: the oldest after the first exchange are left out.
    assert fitted.left_out and fitted.context_start is not None
    sent = [message for message in fitted.messages if message["role"] == "user"]
    assert all(isinstance(message["content"], list) for message in sent)
    assert len(rendered) == len(sent) < 10  # the images of turns left out were never read
