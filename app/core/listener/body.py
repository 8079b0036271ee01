"""A push body's content: gzip/deflate undone within the cap, multipart split.

Reading the body itself (Content-Length checked first, chunked bodies stopped
at the cap) is in `app.core.listener.http`. Decompression stops at the cap,
so a decompression bomb gets 413, not memory.
"""

from __future__ import annotations

import email.parser
import email.policy
import zlib
from dataclasses import dataclass, field

DRAIN_LIMIT = 64 * 1024 * 1024  # read and discard up to this much of a refused body


class BodyError(Exception):
    """A body that cannot be used; `status` is the HTTP answer to give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Payload:
    """The content handed to a device's reader."""

    data: bytes
    name: str
    content_type: str
    fields: dict[str, str] = field(default_factory=dict)


def too_large(limit: int) -> BodyError:
    """The 413 error for `limit`."""
    return BodyError(413, f"body is larger than the {limit}-byte limit (listener.max_body_bytes)")


def decode_body(data: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding (gzip, deflate, identity), never beyond `limit` bytes.

    Raises:
        BodyError: 413 when the decompressed body exceeds the limit, 400 when
            it is corrupt, 415 for an unknown encoding.
    """
    coding = (encoding or "identity").strip().lower()
    if coding in ("identity", ""):
        return data
    if coding in ("gzip", "x-gzip"):
        wbits = 47  # gzip or zlib header, detected automatically
    elif coding == "deflate":
        wbits = 15
    else:
        raise BodyError(415, f"Content-Encoding {encoding!r} is not supported (use gzip)")
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BodyError(400, f"body is not valid {coding} data ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    return out


def payload_of(data: bytes, content_type: str, default_name: str) -> Payload:
    """The reader's input: the raw body, or the file part of a multipart form.

    Raises:
        BodyError: 400 for a multipart body without a file part.
    """
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind != "multipart/form-data":
        return Payload(data=data, name=default_name, content_type=content_type)
    if "boundary=" not in content_type:
        raise BodyError(400, "multipart/form-data without a boundary parameter")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
    if not message.is_multipart():
        raise BodyError(400, "multipart/form-data body could not be split into parts")
    fields: dict[str, str] = {}
    file_part: tuple[bytes, str, str] | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        filename = part.get_filename()
        body = part.get_payload(decode=True) or b""
        if filename is not None or (name == "file" and file_part is None):
            if file_part is None:
                file_part = (bytes(body), filename or default_name, part.get_content_type())
        else:
            fields[str(name)] = bytes(body).decode("utf-8", "replace")
    if file_part is None:
        names = ", ".join(fields) or "none"
        raise BodyError(400, f"multipart body has no file part (fields: {names})")
    return Payload(data=file_part[0], name=file_part[1], content_type=file_part[2], fields=fields)
