"""An uploaded picture made safe and small: decoded, turned upright, stripped, resized, re-encoded.

What is stored and sent upstream is never the member's bytes: a fresh encoding of the pixels, so no
EXIF (location, camera), no comments, no trailing payload, no second frame survive.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError
from pillow_heif import register_heif_opener

from chat.attachments.refusals import Refused
from chat.attachments.sniff import Sniffed
from chat.upstream.tokens import image_tokens

register_heif_opener()
SRGB = ImageCms.createProfile("sRGB")
TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

THUMBNAIL_EDGE = 320
HEAVY_PIXELS = 24_000_000  # decoded whole past this: some 100 MB a copy in RGBA (uploads.py's gate)
JPEG_QUALITY = 90
# A lossless source re-encoded as PNG past this size is a photo saved as PNG: JPEG serves it better.
PNG_LIMIT = 4 * 1024 * 1024


@dataclass
class Picture:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes
    tokens: int


def too_large() -> Refused:
    return Refused(
        400,
        "image_too_large",
        _("This image has too many pixels to open safely (%(limit)s megapixels at most).")
        % {"limit": Image.MAX_IMAGE_PIXELS // 1_000_000},
    )


def unreadable() -> Refused:
    return Refused(400, "unreadable", _("This image is damaged or incomplete: it cannot be opened."))


def heavy(file: IO[bytes], sniffed: Sniffed) -> bool:
    """Whether decoding takes hundreds of MB: a PNG, GIF, WebP or HEIC past HEAVY_PIXELS is decoded
    whole (a 9000x9900 RGBA PNG of 350 kB peaks near 850 MB), while a JPEG is drafted small."""
    if sniffed.pillow_format == "JPEG":
        return False
    file.seek(0)
    try:
        with Image.open(file, formats=[sniffed.pillow_format]) as image:  # the header only
            return image.width * image.height > HEAVY_PIXELS
    except Exception:  # a broken header or a bomb: _decode refuses it, in its turn
        return False
    finally:
        file.seek(0)


def process(file: IO[bytes], sniffed: Sniffed) -> Picture:
    """The upright, stripped, resized picture, re-encoded, with its thumbnail and token estimate."""
    image = _decode(file, sniffed)
    lossless = sniffed.pillow_format in ("PNG", "GIF") or (
        sniffed.pillow_format == "WEBP" and image.info.get("lossless")
    )
    turn = _turn(image)
    try:
        image = _fit(_srgb(image), settings.TOKENOFF_IMAGE_LONG_EDGE)
        if turn is not None:
            image = image.transpose(turn)  # after the shrink: a 12 MP photo is never copied whole to turn
        content, content_type, extension = _encode(image, lossless)
        thumbnail = _thumbnail(image)
    except (OSError, ValueError) as exc:  # a mode or a profile Pillow cannot convert: a 400, not a 500
        raise unreadable() from exc
    return Picture(
        content=content,
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        thumbnail=thumbnail,
        tokens=image_tokens(image.width, image.height),
    )


def _decode(file: IO[bytes], sniffed: Sniffed) -> Image.Image:
    """Open as the sniffed format only (never a format Pillow would guess), first frame, fully loaded."""
    file.seek(0)
    try:
        # Pillow refuses past twice MAX_IMAGE_PIXELS (an error) and only warns past it: the size is
        # checked here, from the header, before a pixel is decoded.
        image = Image.open(file, formats=[sniffed.pillow_format])
        if image.width * image.height > (Image.MAX_IMAGE_PIXELS or 2**31):
            raise too_large()
        if image.format == "JPEG":
            # A huge JPEG is decoded at a DCT scale still at least the long edge we keep:
            # a quarter or less of the memory, and no visible loss.
            image.draft(None, _draft_size(image.size, settings.TOKENOFF_IMAGE_LONG_EDGE))
        image.seek(0)  # an animation's first frame
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large() from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise unreadable() from exc
    return image


def _draft_size(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    scale = min(1.0, long_edge / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _turn(image: Image.Image) -> Image.Transpose | None:
    """What the EXIF orientation asks for to show the picture upright (ImageOps.exif_transpose's table)."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except (OSError, ValueError, SyntaxError):
        return None  # unreadable EXIF: as stored
    return TURNS.get(orientation)


def _srgb(image: Image.Image) -> Image.Image:
    """In sRGB, RGB or RGBA only, with no metadata left (the EXIF's orientation was read before)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if has_alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        # A phone's Display P3 photo shown without its profile looks dull, a CMYK one wrong: to sRGB.
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the pixels as they are
    if image.mode != mode:
        image = image.convert(mode)
    if has_alpha and image.getextrema()[3][0] == 255:
        image = image.convert("RGB")  # an alpha channel that hides nothing
    image.info = {}
    return image


def _fit(image: Image.Image, long_edge: int) -> Image.Image:
    """At most long_edge on the long side, never upscaled; LANCZOS keeps small text readable."""
    if max(image.size) <= long_edge:
        return image
    size = _draft_size(image.size, long_edge)
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, lossless: bool) -> tuple[bytes, str, str]:
    """PNG or JPEG: the two formats every vision model takes (WebP is not taken by all upstreams).

    A lossless source (PNG, GIF, lossless WebP: screenshots, diagrams) stays PNG, since JPEG smears
    the edges of small text; so does anything transparent. A photo (JPEG, HEIC, lossy WebP) is JPEG
    at quality 90: a tenth of the PNG's size at no visible loss. A 'screenshot' so large as PNG that
    it must be a photo after all goes JPEG too, unless it is transparent.
    """
    out = io.BytesIO()
    if image.mode == "RGBA" or lossless:
        image.save(out, "PNG", optimize=False, compress_level=6)
        if image.mode == "RGBA" or out.tell() <= PNG_LIMIT:
            return out.getvalue(), "image/png", "png"
        out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue(), "image/jpeg", "jpg"


def _thumbnail(image: Image.Image) -> bytes:
    """A WebP of THUMBNAIL_EDGE on the long side for the transcript (every browser shows WebP)."""
    small = image.copy()
    small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()
