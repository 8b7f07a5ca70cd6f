"""Reading any image OpenCV can read, and writing arrays as PNG grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcli.errors import UsageError


def read_image(path: str | Path) -> np.ndarray:
    """An RGB uint8 array (h, w, 3) from any file OpenCV can decode (JPEG, PNG, BMP, TIFF, WebP...).

    The size the header declares is checked first (dlcli.datasets.pixels), so a small file that
    decodes to gigabytes (a pixel bomb) is refused before any memory is taken, whatever its format."""
    import cv2

    from dlcli.datasets.pixels import pixel_problem

    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: a folder, not an image file (give its images: {path / '*.png'})")
    if not path.is_file():
        raise UsageError(f"{path}: no such image file")  # an argument that names nothing: exit 2, as a missing run
    problem = pixel_problem(path)
    if problem:
        raise UsageError(f"{path}: {problem}")
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as error:  # OpenCV's own limits
        raise UsageError(f"{path}: OpenCV cannot decode it ({str(error).strip().splitlines()[-1][:120]})") from None
    if image is None:
        raise UsageError(f"{path}: not an image OpenCV can read (JPEG, PNG, BMP, TIFF, WebP...)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear") -> np.ndarray:
    """(h, w, c) -> size=(height, width), float32, no aspect preservation (as load_img(target_size))."""
    import cv2

    flags = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
             "area": cv2.INTER_AREA}.get(interpolation, cv2.INTER_LINEAR)
    resized = cv2.resize(image, (size[1], size[0]), interpolation=flags)
    if resized.ndim == 2:
        resized = resized[..., None]
    return resized.astype("float32")


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image, 0, 255).astype("uint8")


def grid(tiles: np.ndarray, columns: int, margin: int = 0, fill: int = 0) -> np.ndarray:
    """(n, h, w[, c]) tiles -> one (rows*h + margins, columns*w + margins[, c]) array."""
    count, height, width = tiles.shape[:3]
    rows = -(-count // columns)
    shape = (rows * height + (rows - 1) * margin, columns * width + (columns - 1) * margin, *tiles.shape[3:])
    canvas = np.full(shape, fill, dtype=tiles.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + margin), column * (width + margin)
        canvas[top:top + height, left:left + width] = tiles[index]
    return canvas


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB (h, w, 3) or grey (h, w) uint8 array as PNG, atomically."""
    import cv2

    from dlcli.atomic import write_bytes_atomic

    path = Path(path)
    array = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(path.suffix or ".png", array)
    if not ok:
        raise UsageError(f"{path}: cannot encode an image with this extension; use .png or .jpg")
    write_bytes_atomic(path, encoded.tobytes())
    return path
