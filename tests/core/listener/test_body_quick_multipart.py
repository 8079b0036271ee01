"""The quick split of a plain multipart body gives what the `multipart` package's parser gives.

`quick_parts` takes a body in the plain form devices send (or gives None and
the parser decides): for every body it takes, its parts and headers equal the
parser's, and a body the parser refuses is never taken.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multipart import MultipartError

from app.core.listener.body import _boundary, _parts, split_multipart
from app.core.listener.quick_multipart import quick_parts
from tests.bench.push_bodies import acurev_body
from tests.core.listener.test_body_multipart import BOUNDARY_CHARS, forms, mutated_forms

HEADER_NAMES = [
    "Content-Disposition",
    "content-disposition",
    "Content-Type",
    "CONTENT-TYPE",
    "Content-Transfer-Encoding",
    "Content-Length",
    "X-Other",
]
VALUES = [
    'form-data; name="file"; filename="a.csv"',
    'form-data; name="MODE"',
    "form-data",
    'attachment; name="x"',
    'form-data; name="a\\"b"',
    "text/csv",
    " \ttext/csv ",
    "base64",
    "8bit",
    "3",
    "",
    "é",
]


@st.composite
def odd_forms(draw: st.DrawFn) -> tuple[bytes, str]:
    """Forms with the header names, spacing, repeats, preambles and epilogues devices
    might send: some plain, most not."""
    boundary = draw(st.text(st.sampled_from(BOUNDARY_CHARS), min_size=1, max_size=20))
    body = draw(st.sampled_from([b"", b"preamble\r\n", b"\r\n"]))
    for _ in range(draw(st.integers(1, 10))):
        lines = []
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.sampled_from(HEADER_NAMES))
            space = draw(st.sampled_from(["", " ", "  ", "\t", " :"]))
            lines.append(f"{name}:{space}{draw(st.sampled_from(VALUES))}")
            if draw(st.integers(0, 9)) == 0:
                lines.append(" continued")
        content = draw(st.binary(max_size=30) | st.sampled_from([b"", b"--", b"\r\n", b"\r"]))
        head = "\r\n".join(lines).encode()
        body += f"--{boundary}\r\n".encode() + head + b"\r\n\r\n" + content + b"\r\n"
    body += f"--{boundary}--".encode()
    body += draw(st.sampled_from([b"", b"\r\n", b"\r\nepilogue", b"\r\n\r\n", b"--"]))
    return body, f'multipart/form-data; boundary="{boundary}"'


@st.composite
def plain_forms(draw: st.DrawFn) -> tuple[bytes, str]:
    """Forms in the plain form devices send (mostly taken quickly), with odd spacing,
    transfer encodings, contents that look like boundaries, and endings."""
    boundary = draw(st.text(st.sampled_from(BOUNDARY_CHARS), min_size=1, max_size=20))
    body = b""
    for _ in range(draw(st.integers(1, 9))):
        name = draw(st.text(st.sampled_from("abz09_-. /"), max_size=8))
        lines = [f'Content-Disposition:{draw(SPACES)}form-data; name="{name}"']
        if draw(st.booleans()):
            lines[0] += f'; filename="{name}.csv"'
        for header in ("Content-Type", "Content-Transfer-Encoding"):
            if draw(st.booleans()):
                lines.append(f"{header}:{draw(SPACES)}{draw(st.sampled_from(VALUES))}")
        if draw(st.integers(0, 5)) == 0:  # a header named twice: the parser keeps the first
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(REPEATED)))
        content = draw(st.binary(max_size=30) | st.sampled_from([b"", b"--", b"\r\n", b"\r"]))
        body += f"--{boundary}\r\n".encode() + "\r\n".join(lines).encode() + b"\r\n\r\n"
        body += content + b"\r\n"
    body += f"--{boundary}--".encode()
    body += draw(st.sampled_from([b"", b"\r\n", b"\r\nepilogue", b"\r\n\r\n", b"--"]))
    return body, f'multipart/form-data; boundary="{boundary}"'


REPEATED = [
    'Content-Disposition: form-data; name="other"; filename="other.csv"',
    "Content-Type: text/other",
    "Content-Transfer-Encoding: base64",
]
SPACES = st.sampled_from(["", " ", "  ", "\t", " \t"])


def parser_parts(data: bytes, boundary: str) -> object:
    try:
        return _parts(data, boundary)
    except MultipartError:
        return "refused"


def assert_same_as_parser(data: bytes, content_type: str) -> None:
    boundary = _boundary(content_type)
    quick = quick_parts(data, boundary)
    if quick is not None:
        assert quick == parser_parts(data, boundary)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms() | odd_forms() | plain_forms())
def test_a_body_taken_quickly_has_the_parsers_parts_and_headers(drawn: tuple[bytes, str]) -> None:
    assert_same_as_parser(*drawn)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_forms())
def test_a_broken_body_is_never_taken_unless_the_parser_reads_it_alike(
    drawn: tuple[bytes, str],
) -> None:
    assert_same_as_parser(*drawn)


def test_the_benchmark_upload_is_taken_quickly() -> None:
    data, content_type = acurev_body(3, 5)
    boundary = _boundary(content_type)
    quick = quick_parts(data, boundary)
    assert quick is not None and quick == _parts(data, boundary)
    assert [headers.get("Content-Type") for headers, _ in quick] == [None, "text/csv"]
    assert quick[0][1] == b"LOGFILEUPLOAD"


@pytest.mark.parametrize(
    "data",
    [
        b'preamble\r\n--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n--b--\r\n',
        b'--b\r\ncontent-disposition: form-data; name="f"\r\n\r\n1\r\n--b--\r\n',
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n'
        b"Content-Type: a\r\nContent-Type: b\r\n\r\n1\r\n--b--\r\n",
        b'--b\r\nContent-Disposition: form-data;\r\n name="f"\r\n\r\n1\r\n--b--\r\n',
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n--b--\r\nepilogue',
        b'--b\r\nContent-Length: 1\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n--b--',
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n--b',
    ],
    ids=["preamble", "lower-case name", "repeated", "continued", "epilogue", "length", "cut"],
)
def test_anything_not_plain_is_left_to_the_parser(data: bytes) -> None:
    assert quick_parts(data, "b") is None


def test_a_repeated_header_reads_as_before_through_the_parser() -> None:
    data = (
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\nContent-Type: text/plain\r\n\r\n1,2\r\n--b--\r\n"
    )
    payload = split_multipart(data, "multipart/form-data; boundary=b", {})
    assert (payload.data, payload.name, payload.content_type) == (b"1,2", "a.csv", "text/csv")
