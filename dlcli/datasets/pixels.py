"""How many pixels an image has, read from its header before any decoder sees it, and the bound.

Every decoder dlcli uses (OpenCV for predict and visualize, TensorFlow for image folders and data
split) allocates the whole image at once, so a few bytes that declare 32000x32000 pixels take
gigabytes. An image is decoded only once Pillow has read its size from the header and that size is
within DLCLI_MAX_IMAGE_PIXELS. A header Pillow cannot read (a format OpenCV decodes and Pillow does
not know, such as Radiance .hdr) is refused too: its size could only be learnt by decoding it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from dlcli.errors import UsageError

DEFAULT_MAX_PIXELS = 100_000_000  # a 100-megapixel photo decodes to 300 MB; raise with DLCLI_MAX_IMAGE_PIXELS


def max_image_pixels() -> int:
    try:
        return int(os.environ.get("DLCLI_MAX_IMAGE_PIXELS") or DEFAULT_MAX_PIXELS)
    except ValueError:
        raise UsageError("DLCLI_MAX_IMAGE_PIXELS must be a whole number of pixels") from None


def declared_size(source: Path | bytes) -> tuple[int, int] | None:
    """(width, height) as the header of a file (or its bytes) declares it, read without decoding;
    None when Pillow knows no such header."""
    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # only the header is read: dlcli applies its own
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return image.size
    except (OSError, ValueError, SyntaxError):
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def pixel_problem(source: Path | bytes) -> str | None:
    """Why an image must not be decoded (its size unknown, or past the bound, and what to do), else None."""
    size = declared_size(source)
    if size is None:
        return ("not a readable image: its header (and so its size) cannot be read before decoding; it is damaged, "
                "or of a format dlcli does not read (it reads JPEG, PNG, GIF, BMP, TIFF, WebP...): replace it, or "
                "convert it to PNG or JPEG")
    width, height = size
    if width * height > max_image_pixels():
        return (f"{width}x{height} pixels, more than the {max_image_pixels():,} dlcli decodes; resize it, "
                "or raise DLCLI_MAX_IMAGE_PIXELS")
    return None
