"""Test data made on the fly: encoded images, hand-written file headers, dataset folder
layouts, tar archives and a local HTTP server with Range support.

A plain module (not a conftest) that the data tests import.
"""

from __future__ import annotations

import http.server
import io
import re
import socket
import struct
import tarfile
import threading
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# -- encoded images -------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """``image`` saved in ``fmt`` ("PNG", "JPEG", ...) as bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def solid(colour, size=(16, 16), fmt="PNG", mode="RGB", **options) -> bytes:
    """A one-colour picture of ``size`` = (width, height), encoded as ``fmt``."""
    return encode(Image.new(mode, size, colour), fmt, **options)


def noise(size=(32, 32), fmt="PNG", seed=0, **options) -> bytes:
    """A random RGB picture (compresses badly, so truncations land inside pixel data)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), fmt, **options)


# -- hand-written headers -------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def raw_png(pixels: np.ndarray, bit_depth: int, colour_type: int) -> bytes:
    """A PNG written without Pillow: (H, W) or (H, W, C) values, 8 or 16 bits per sample.

    Colour types: 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA.
    """
    height, width = pixels.shape[:2]
    sample = ">u2" if bit_depth == 16 else np.uint8
    rows = b"".join(b"\x00" + pixels[y].astype(sample).tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b""))


def png_declaring(width: int, height: int) -> bytes:
    """A valid-looking PNG header (correct CRCs) that claims ``width`` x ``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_SIGNATURE + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def gif_declaring(width: int, height: int) -> bytes:
    """A GIF89a whose screen and single frame claim ``width`` x ``height`` pixels."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    lzw = b"\x02\x02\x44\x01\x00"  # minimum code size 2, one tiny sub-block, terminator
    return screen + frame + lzw + b"\x3b"


def bmp_declaring(width: int, height: int) -> bytes:
    """A 24-bit BMP header (BITMAPINFOHEADER) that claims ``width`` x ``height`` pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


# -- dataset folders ------------------------------------------------------------------------


def write_picture(path: Path, colour=(200, 30, 30), size=(24, 20)) -> Path:
    """Write a small picture whose format follows the suffix of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".gif": "GIF",
           ".webp": "WEBP"}[path.suffix.lower()]
    path.write_bytes(solid(colour, size, fmt))
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def truncated_jpeg(size=(32, 32)) -> bytes:
    """A JPEG whose header parses (a cheap probe accepts it) but whose pixel data is cut."""
    data = noise(size, "JPEG", quality=95)
    return data[: len(data) // 2]


#: A small Oxford-IIIT Pets sample: capitalised names are cat breeds, lower case dog breeds.
PET_NAMES = [
    "Abyssinian_1", "Abyssinian_2", "Bengal_1", "Bengal_2", "Persian_1",
    "beagle_1", "beagle_2", "boxer_1", "boxer_2", "pug_1",
]
PET_SIZE = (30, 20)  # width, height
#: Pet box in trimap pixels: foreground inside, a one-pixel boundary ring around it.
PET_FOREGROUND = (8, 5, 20, 14)  # x0, y0, x1, y1 (exclusive)


def pet_trimap() -> np.ndarray:
    """A (H, W) trimap with the official codes: 1 pet, 2 background, 3 boundary."""
    width, height = PET_SIZE
    x0, y0, x1, y1 = PET_FOREGROUND
    trimap = np.full((height, width), 2, np.uint8)
    trimap[y0 - 1:y1 + 1, x0 - 1:x1 + 1] = 3
    trimap[y0:y1, x0:x1] = 1
    return trimap


def pet_files(names=PET_NAMES) -> dict[str, bytes]:
    """Archive member name -> bytes for a fake pets layout, with the strays real copies have."""
    trimap = encode(Image.fromarray(pet_trimap(), "L"), "PNG")
    files = {}
    for k, name in enumerate(names):
        colour = (40 + 20 * k, 120, 200 - 10 * k)
        files[f"images/{name}.jpg"] = solid(colour, PET_SIZE, "JPEG", quality=95)
        files[f"annotations/trimaps/{name}.png"] = trimap
    files["images/._Abyssinian_1.jpg"] = b"\x00\x05\x16\x07AppleDouble"  # macOS metadata
    files["images/havanese_9.jpg"] = solid((9, 9, 9), PET_SIZE, "JPEG")  # no trimap
    files["annotations/trimaps/._Abyssinian_1.png"] = b"\x00\x05\x16\x07AppleDouble"
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        write_bytes(root / name, data)
    return root


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A .tar.gz holding ``members`` (name -> bytes), names written exactly as given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# -- a local HTTP server --------------------------------------------------------------------


class FileServer:
    """Serves ``files`` (URL path without the leading slash -> bytes) on 127.0.0.1.

    Honours ``Range: bytes=N-`` with 206 and Content-Range. ``cut_after = n`` makes the next
    response send only its first ``n`` body bytes and then drop the connection, once.
    ``requests`` records (path, Range header or None) of every GET.
    """

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.cut_after: int | None = None
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                owner._serve(self)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FileServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        name = handler.path.lstrip("/")
        range_header = handler.headers.get("Range")
        self.requests.append((handler.path, range_header))
        data = self.files.get(name)
        if data is None:
            handler.send_error(404, "Not Found")
            return
        start = 0
        if range_header:
            match = re.fullmatch(r"bytes=(\d+)-", range_header.strip())
            assert match, range_header
            start = int(match.group(1))
            if start >= len(data):
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(data)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            handler.send_response(200)
        body = data[start:]
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        cut, self.cut_after = self.cut_after, None
        if cut is not None:
            handler.wfile.write(body[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(body)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections to it are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_reply_server(reply: bytes) -> int:
    """Port of a one-shot TCP server on 127.0.0.1 that answers any request with ``reply``
    and hangs up (for replies no real HTTP server would send)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def answer() -> None:
        with listener:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(reply)
                connection.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=answer, daemon=True).start()
    return listener.getsockname()[1]
