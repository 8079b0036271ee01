"""Hostile answers of the fake EnergyCAP: a server that does not behave.

`FakeEnergyCap.hostile(mode, ...)` makes the next matching requests (or all,
until `clear_hostile()`) get one of these instead of the real answer. None of
them stores anything: a reading "accounted" by a hostile answer did not arrive.

| mode | answer |
|---|---|
| ``vague_counts`` | 200, ``failedReadingsCount`` 2 but ``failedReadings`` empty |
| ``fewer_imported`` | 200, ``importedReadingsCount`` one less than sent, nothing failed |
| ``redirect`` | ``status`` (default 307) with ``Location: value`` (e.g. another port) |
| ``retry_after`` | ``status`` (default 429) with ``Retry-After: value`` (``nan``, ``-5``, ...) |
| ``html`` | 200 with an HTML page (``text/html``) |
| ``truncated`` | 200 with JSON cut in the middle (the HTTP framing is right) |
| ``cut`` | 200 announcing a full body, half of it sent, then the connection closed |
| ``stall`` | 200 headers and half the body, then nothing for ``stall_s`` seconds |
| ``empty`` | 200 with no body at all |
| ``json_list`` | 200 with ``[]`` (JSON, not the documented object) |
| ``overcount`` | the real answer (readings stored), ``failedReadingsCount`` raised by 2 |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.energycap_http import Answer

MODES = ("vague_counts", "fewer_imported", "redirect", "retry_after", "html", "truncated",
         "cut", "stall", "empty", "json_list", "overcount")  # fmt: skip
AFTER_ROUTING = ("overcount",)  # modes that change the real answer
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Signed out</title></head>"
    b"<body>Please sign in.</body></html>\n"
)


@dataclass
class Hostile:
    """One hostile mode for requests whose path starts with `prefix`."""

    mode: str
    prefix: str
    remaining: int | None  # None: until cleared
    value: str = ""
    status: int | None = None
    stall_s: float = 5.0


def _sent(body: Any) -> int:
    """How many readings a Readings/ESA API body carries (0 for anything else)."""
    if not isinstance(body, list):
        return 0
    return sum(len(i.get("readings") or []) for i in body if isinstance(i, dict))


def hostile_after(hostile: Hostile, answer: Answer) -> Answer:
    """The real `answer` made dishonest (modes of `AFTER_ROUTING`)."""
    try:
        data = json.loads(answer.body)
    except ValueError:
        return answer
    if isinstance(data, dict) and "failedReadingsCount" in data:
        data["failedReadingsCount"] += 2
    return Answer(answer.status, json.dumps(data).encode(), answer.content_type, answer.headers)


def hostile_answer(hostile: Hostile, body: Any) -> Answer:
    """The answer of `hostile` to a request with JSON `body` (nothing is stored)."""
    sent = _sent(body)
    honest = json.dumps(
        {"importedReadingsCount": sent, "failedReadingsCount": 0, "failedReadings": []}
    ).encode()
    mode = hostile.mode
    if mode == "vague_counts":
        counts = {"importedReadingsCount": max(sent - 2, 0), "failedReadingsCount": 2}
        return Answer(200, json.dumps({**counts, "failedReadings": []}).encode())
    if mode == "fewer_imported":
        counts = {"importedReadingsCount": max(sent - 1, 0), "failedReadingsCount": 0}
        return Answer(200, json.dumps({**counts, "failedReadings": []}).encode())
    if mode == "redirect":
        return Answer(hostile.status or 307, b"", headers={"Location": hostile.value})
    if mode == "retry_after":
        message = json.dumps({"status": hostile.status or 429, "message": "slow down"}).encode()
        return Answer(hostile.status or 429, message, headers={"Retry-After": hostile.value})
    if mode == "html":
        return Answer(200, HTML_PAGE, content_type="text/html; charset=utf-8")
    if mode == "truncated":
        return Answer(200, honest[: len(honest) // 2])
    if mode in ("cut", "stall"):
        return Answer(
            200, honest, partial=len(honest) // 2, stall_s=hostile.stall_s * (mode == "stall")
        )
    if mode == "empty":
        return Answer(200, b"")
    if mode == "json_list":
        return Answer(200, b"[]")
    raise ValueError(f"unknown hostile mode {mode!r}; known: {', '.join(MODES)}")
