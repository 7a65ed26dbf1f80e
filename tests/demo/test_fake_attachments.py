"""The fake upstream reads list content as the real API does (issue 15, item 8): it says what it got (the
images' sizes, the documents' names, pages and characters), refuses an image for a model without vision
with the real API's 400, and counts images in usage.prompt_tokens. Through the real openai SDK."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from openai import OpenAI
from PIL import Image

from chat.demo import attachments
from chat.demo.harness import FakeUpstream
from chat.demo.usage import prompt_tokens
from chat.models import ChatModel
from chat.upstream import tokens


@pytest.fixture(scope="module")
def server():
    fake = FakeUpstream()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def client(server):
    server.reset()
    with OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=5) as sdk:
        yield sdk


def image(size: tuple[int, int], kind: str = "PNG") -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, kind)
    url = f"data:image/{kind.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"
    return {"type": "image_url", "image_url": {"url": url}}


def document(name: str, about: str, text: str) -> dict:
    return {"type": "text", "text": f'Attached file "{name}" ({about}):\n\n{text}'}


def reply(client, model: str, content: list[dict]) -> str:
    answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    return answer.choices[0].message.content


def test_the_reply_says_what_the_message_carried(client):
    text = "x" * 51_234
    content = [
        {"type": "text", "text": "What are these?"},
        image((2048, 1536), "JPEG"),
        image((800, 600)),
        document("report.pdf", "200 pages", text),
    ]
    said = reply(client, "gpt-4.1", content)
    images = "2 images (2048\u00d71536, 800\u00d7600)"
    assert said.startswith(f"I see {images} and 1 document: report.pdf (200 pages, 51,234 characters).")
    assert "What are these?" in said and "xxxx" not in said  # the question answered, the document not echoed


def test_an_excerpt_is_described_by_its_pages_and_the_characters_sent(client):
    content = [document("book.pdf", "300 pages; only pages 1-2 are included", "abc")]
    assert reply(client, "gpt-4.1", content) == "I see 1 document: book.pdf (300 pages, 3 characters)."


@pytest.mark.parametrize("model", ["o3-mini", "gpt-5.3-codex-spark"])
def test_an_image_for_a_model_without_vision_is_refused_as_the_real_api_does(client, server, model):
    with pytest.raises(openai.BadRequestError) as refused:
        reply(client, model, [{"type": "text", "text": "Look"}, image((10, 10))])
    assert refused.value.code == "invalid_value"
    assert "image_url is only supported by certain models" in refused.value.message
    assert server.requests[-1].status == 400
    # A document is text: every model takes it.
    assert reply(client, model, [document("a.txt", "1 page", "hello")]).startswith("I see 1 document")


@pytest.mark.django_db
def test_the_fakes_models_take_images_as_the_catalogue_says():
    seeded = dict(ChatModel.objects.values_list("name", "vision"))
    for name, vision in seeded.items():
        assert attachments.takes_images(name) == vision, name


def test_images_count_in_the_prompt_tokens_as_the_site_counts_them(client):
    part = image((2000, 1500))
    with_image = [{"role": "user", "content": [{"type": "text", "text": "Look"}, part]}]
    without = [{"role": "user", "content": [{"type": "text", "text": "Look"}]}]
    assert prompt_tokens(with_image) - prompt_tokens(without) == tokens.image_tokens(2000, 1500) == 765
    answer = client.chat.completions.create(model="gpt-4.1", messages=with_image)
    assert answer.usage.prompt_tokens == prompt_tokens(with_image)
    # The site's own count of the request agrees with the fake's.
    assert tokens.count_messages(with_image, "gpt-4.1").tokens == prompt_tokens(with_image)
