"""Uploads: screenshots are checked for their real pixels and format; oversized bodies are refused unread."""

from __future__ import annotations

import io
import socket
import struct
import time
import urllib.parse
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pytest_django import Settings

from diagnosis.models import Case
from tests.diagnosis.conftest import ticket

pytestmark = pytest.mark.django_db

TOO_MANY_PIXELS = "The screenshot has more than 40 million pixels."
UNREADABLE = "The screenshot could not be read as a PNG or JPEG image."


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A real, valid black-and-white PNG of that size: all white, so it compresses to almost nothing."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte, then one bit per pixel
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def image_bytes(kind: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, kind)
    return buffer.getvalue()


def file_with(client: Client, content: bytes, name: str = "shot.png") -> list[str]:
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = client.post("/support/new/", {**ticket(), "screenshot": upload})
    return list(response.context["form"].errors.get("screenshot", [])) if response.status_code == 200 else []


def test_a_small_png_that_unpacks_to_900_million_pixels_is_refused(client: Client) -> None:
    flood = blank_png(30_000, 30_000)
    assert len(flood) < 300 * 1024  # a few hundred kilobytes on the wire

    assert file_with(client, flood) == [TOO_MANY_PIXELS + " Please send a smaller one."]
    assert not Case.objects.exists()


def test_the_pixel_limit_is_40_million(client: Client) -> None:
    assert file_with(client, blank_png(8000, 5001)) == [TOO_MANY_PIXELS + " Please send a smaller one."]
    assert file_with(client, blank_png(8000, 5000)) == []
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-signature-then-nothing"),
        pytest.param(image_bytes("PNG")[:-20], id="truncated-png"),
        pytest.param(image_bytes("PNG")[:40] + b"\x00" * 8 + image_bytes("PNG")[48:], id="corrupt-png-chunk"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, id="jpeg-signature-then-nothing"),
        pytest.param(image_bytes("JPEG")[:200], id="truncated-jpeg"),
    ],
)
def test_files_that_do_not_decode_as_png_or_jpeg_are_refused(client: Client, content: bytes) -> None:
    assert file_with(client, content) == [UNREADABLE + " Please take it again."]
    assert not Case.objects.exists()


@pytest.mark.parametrize(("kind", "suffix"), [("PNG", ".png"), ("JPEG", ".jpg")])
def test_real_screenshots_are_kept(
    client: Client, settings: Settings, tmp_path: Any, kind: str, suffix: str
) -> None:
    settings.MEDIA_ROOT = tmp_path

    assert file_with(client, image_bytes(kind, (1170, 2532)), name=f"shot{suffix}") == []

    assert Case.objects.get().screenshot.name.endswith(suffix)


# --- Request bodies ------------------------------------------------------------------


def send_headers_only(live_server: Any, path: str, declared: int) -> tuple[int, str, float]:
    """Declare a large body, send a few bytes of it, and wait for the answer: (status, body, seconds)."""
    url = urllib.parse.urlsplit(live_server.url)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {url.hostname}\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\n"
                f"Content-Length: {declared}\r\n\r\n"
            ).encode()
            + b"--xyz\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < 10:
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(), time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_40_mb_body_is_refused_before_it_is_read(live_server: Any) -> None:
    status, body, seconds = send_headers_only(live_server, "/support/new/", 40 * 1024 * 1024)

    # The server answered although only a few bytes of the 40 MB ever came.
    assert status == 413 and seconds < 5
    assert "This request is too large: at most 6 MB can be sent here." in body


def test_the_send_details_import_takes_larger_files_than_the_public_forms(
    client: Client, lead: User, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.MAX_REQUEST_BODY_BYTES = 64 * 1024
    settings.MAX_IMPORT_BODY_BYTES = 512 * 1024
    client.force_login(lead)
    rows = "".join(f"m-{n},+4915123456789,DELIVRD,2026-11-20 09:00:00\n" for n in range(4000))
    export = "smsMsgId,Recipient Number,Status,Update Time\n" + rows
    assert 64 * 1024 < len(export) < 512 * 1024

    def send(path: str, size: int = 0) -> Any:
        content = (export + "x" * size).encode()
        upload = SimpleUploadedFile("send-details.csv", content, content_type="text/csv")
        return client.post(path, {"file": upload, "encoding": "utf-8-sig", "timezone": "UTC"})

    assert send("/leads/import/").status_code == 302  # stored, then imported in the background
    assert send("/support/new/").status_code == 413
    too_big = send("/leads/import/", 512 * 1024)
    assert too_big.status_code == 413
    assert too_big.content.decode() == "This request is too large: at most 512 KB can be sent here.\n"
