"""Images (chat/attachments/images.py): upright, stripped, at most 2048 px, text kept, bombs refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chat.upstream.tokens import image_tokens
from tests.attachments import fixtures
from tests.attachments.conftest import uploaded

pytestmark = pytest.mark.django_db


def opened(field) -> Image.Image:
    with field.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read()))
        image.load()
    return image


def test_a_12_megapixel_photo_is_turned_upright_shrunk_to_2048_and_stripped(member):
    attachment = uploaded(member, fixtures.jpeg_12mp)
    image = opened(attachment.file)
    # Stored 4000x3000 with orientation 6: shown portrait, the red corner turned to the top right.
    assert image.format == "JPEG" and image.size == (1536, 2048) == (attachment.width, attachment.height)
    red, green, blue = image.getpixel((image.width - 5, 5))
    assert red > 200 and green < 60 and blue < 60
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert b"FixtureCam" not in attachment.file.open("rb").read()
    assert attachment.tokens == image_tokens(1536, 2048) == 765


def test_an_iphone_heic_is_accepted_as_a_jpeg(member):
    attachment = uploaded(member, fixtures.heic_photo)
    image = opened(attachment.file)
    assert (image.format, image.size, attachment.content_type) == ("JPEG", (2048, 1536), "image/jpeg")


def test_a_screenshot_keeps_its_size_and_stays_png_so_its_text_stays_legible(member):
    attachment = uploaded(member, fixtures.png_screenshot)
    image = opened(attachment.file)
    assert (image.format, image.size) == ("PNG", fixtures.SCREENSHOT_SIZE)
    original = Image.open(io.BytesIO(fixtures.png_screenshot()[1])).convert("RGB")
    assert image.convert("RGB").tobytes() == original.tobytes()  # not a pixel changed


def test_transparency_stays_png_and_a_large_one_is_shrunk_never_upscaled(member):
    logo = opened(uploaded(member, fixtures.png_transparent).file)
    assert (logo.format, logo.mode, logo.size) == ("PNG", "RGBA", (2048, 683))
    small = opened(uploaded(member, fixtures.webp_image).file)
    assert small.size == (640, 480)


def test_a_gif_keeps_its_first_frame_only(member):
    image = opened(uploaded(member, fixtures.gif_animated).file)
    assert getattr(image, "n_frames", 1) == 1 and image.getpixel((10, 10))[:3] == (255, 0, 0)


def test_the_thumbnail_is_a_small_webp(member):
    attachment = uploaded(member, fixtures.jpeg_12mp)
    thumbnail = opened(attachment.thumbnail)
    assert thumbnail.format == "WEBP" and max(thumbnail.size) == 320 and thumbnail.size == (240, 320)


def test_the_long_edge_setting_is_obeyed(member, settings):
    settings.TOKENOFF_IMAGE_LONG_EDGE = 1000
    attachment = uploaded(member, fixtures.png_screenshot)
    assert (attachment.width, attachment.height) == (1000, 625)


def test_a_decompression_bomb_and_a_broken_image_are_refused(member):
    bomb = member.post("/api/attachments/", {"file": _file(fixtures.png_bomb())})
    assert (bomb.status_code, bomb.json()["error"]["code"]) == (400, "image_too_large")
    head = fixtures.png_screenshot()[1][:200]
    broken = member.post("/api/attachments/", {"file": _file(("cut.png", head))})
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "unreadable")


def _file(pair):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(*pair)
