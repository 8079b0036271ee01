"""Multipart bodies split by the `multipart` package read as aiohttp's reader read them.

The listener split multipart/form-data with aiohttp's `MultipartReader` until the
speed work of 7 Dec 2026; `aiohttp_split` below is that code, kept as the reference:
every well-formed form drawn gives the same file part, file name, content type and
fields both ways, and any mutation of one is split or refused with a 400, never a crash.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import warnings

import pytest
from aiohttp import multipart
from aiohttp.streams import StreamReader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.listener.body import BodyError, Payload, prepare_payload, split_multipart
from tests.bench.push_bodies import acurev_body

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # aiohttp's, on odd headers
BOUNDARY_CHARS = "abcXYZ0189'()+_,-./:=?"
NAME_CHARS = "abz09_-. /\\;é"


class _InMemory:
    _reading_paused = False
    connected = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


async def _aiohttp_split(data: bytes, content_type: str) -> tuple[bytes, str, str, dict]:
    stream = StreamReader(_InMemory(), len(data) + 1, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
    stream.feed_data(data)
    stream.feed_eof()
    fields: dict[str, str] = {}
    file_part = None
    reader = multipart.MultipartReader({"Content-Type": content_type}, stream)
    while (part := await reader.next()) is not None:
        assert isinstance(part, multipart.BodyPartReader)
        body = bytes(await part.read(decode=True))
        name, filename = part.name, part.filename
        if filename is not None or (name == "file" and file_part is None):
            if file_part is None:
                kind = part.headers.get("Content-Type", "application/octet-stream")
                file_part = (body, filename or "push-body", kind)
        else:
            fields[str(name or "")] = body.decode("utf-8", "replace")
    if file_part is None:
        raise ValueError("no file part")
    return (*file_part, fields)


def aiohttp_split(data: bytes, content_type: str) -> tuple[bytes, str, str, dict] | str:
    """What the listener made of a multipart body with aiohttp's reader ("refused" if nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return asyncio.run(_aiohttp_split(data, content_type))
        except (ValueError, AssertionError, RuntimeError, binascii.Error):
            return "refused"


def our_split(data: bytes, content_type: str) -> tuple[bytes, str, str, dict] | str:
    try:
        payload = split_multipart(data, content_type, {})
    except BodyError as error:
        assert error.status == 400 and error.message
        return "refused"
    return payload.data, payload.name, payload.content_type, payload.fields


def form(boundary: str, parts: list[tuple[str, bytes]], preamble: bytes = b"") -> bytes:
    body = preamble
    for head, content in parts:
        body += f"--{boundary}\r\n{head}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


@st.composite
def forms(draw: st.DrawFn) -> tuple[bytes, str]:
    boundary = draw(st.text(st.sampled_from(BOUNDARY_CHARS), min_size=1, max_size=70))
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.text(st.sampled_from(NAME_CHARS), max_size=8)).replace("\\", "")
        head = f'Content-Disposition: form-data; name="{name}"'
        if draw(st.booleans()):
            filename = draw(st.text(st.sampled_from(NAME_CHARS), max_size=12)).replace("\\", "")
            head += f'; filename="{filename}"'
        if draw(st.booleans()):
            head += "\r\nContent-Type: " + draw(st.sampled_from(["text/csv", "application/json"]))
        content = draw(st.binary(max_size=60) | st.sampled_from([b"", b"--", b"\r\n", b"a\r\n--x"]))
        coding = draw(st.sampled_from([None, "base64", "quoted-printable", "binary", "8bit"]))
        if coding == "base64":
            content = base64.b64encode(content)
        elif coding == "quoted-printable":
            content = binascii.b2a_qp(content)
        if coding:
            head += f"\r\nContent-Transfer-Encoding: {coding}"
        if f"\r\n--{boundary}".encode() in b"\r\n" + content + b"\r\n":
            continue  # the content would end the part early: no valid form holds it
        parts.append((head, content))
    preamble = draw(st.sampled_from([b"", b"preamble\r\n"]))
    return form(boundary, parts, preamble), f'multipart/form-data; boundary="{boundary}"'


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms())
def test_a_well_formed_form_is_split_as_aiohttp_split_it(drawn: tuple[bytes, str]) -> None:
    data, content_type = drawn
    assert our_split(data, content_type) == aiohttp_split(data, content_type)


@st.composite
def mutated_forms(draw: st.DrawFn) -> tuple[bytes, str]:
    data, content_type = draw(forms())
    body = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(body) - 1, 0)))
        action = draw(st.sampled_from(["cut", "flip", "insert", "drop"]))
        if action == "cut":
            del body[at:]
        elif action == "flip" and body:
            body[at] = draw(st.integers(0, 255))
        elif action == "insert":
            body[at:at] = draw(st.sampled_from([b"\r\n", b"--", b"\n", b":", b'"', b"\x00"]))
        elif body:
            del body[at]
    return bytes(body), content_type


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_forms())
def test_a_broken_form_is_split_or_refused_with_400_never_a_crash(drawn: tuple[bytes, str]) -> None:
    data, content_type = drawn
    our_split(data, content_type)  # returns, or refuses with 400 (asserted inside)


def test_the_benchmark_upload_gives_the_csv_its_file_name_and_the_mode_field() -> None:
    data, content_type = acurev_body(3, 5)
    payload = prepare_payload(data, {"Content-Type": content_type, "X-Token": "t"}, 10**7)
    assert isinstance(payload, Payload)
    assert payload.name == "Logger1-AHI260110085-AcuRev2100-1780000900-1min.csv"
    assert payload.data.startswith(b"timestamp,DMD_P_001_kW,") and payload.data.endswith(b"\r\n")
    assert (payload.content_type, payload.fields) == ("text/csv", {"MODE": "LOGFILEUPLOAD"})
    assert payload.headers == {"content-type": content_type}  # nothing naming a token
    assert our_split(data, content_type) == aiohttp_split(data, content_type)


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        (
            form("b", [('Content-Disposition: form-data; name="f"; filename="a.csv"', b"1")])[:-4],
            "multipart/form-data; boundary=b",
            "Unexpected end",
        ),
        (b"--b\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", "Content-Disposition"),
        (
            form("b", [('Content-Disposition: form-data; name="MODE"', b"x")]),
            "multipart/form-data; boundary=b",
            "no file part (fields: MODE)",
        ),
        (b"x", "multipart/form-data", "no boundary"),
        (b"x", "multipart/form-data; boundary=" + "b" * 71, "too long"),
        (
            form(
                "b",
                [
                    (
                        'Content-Disposition: form-data; name="f"; filename="a"\r\n'
                        "Content-Transfer-Encoding: base64",
                        b"abcde",
                    )
                ],
            ),
            "multipart/form-data; boundary=b",
            "split",
        ),
        (
            form(
                "b",
                [
                    (
                        'Content-Disposition: form-data; name="f"; filename="a"\r\n'
                        "Content-Transfer-Encoding: x-uu",
                        b"1",
                    )
                ],
            ),
            "multipart/form-data; boundary=b",
            "x-uu",
        ),
    ],
    ids=[
        "cut short",
        "no disposition",
        "no file",
        "no boundary",
        "long boundary",
        "bad base64",
        "unknown transfer encoding",
    ],
)
def test_a_broken_form_is_refused_naming_why(data: bytes, content_type: str, words: str) -> None:
    with pytest.raises(BodyError) as refused:
        split_multipart(data, content_type, {})
    assert refused.value.status == 400
    assert words in refused.value.message
