"""A multipart part's name and file name are read as aiohttp's own parser reads them."""

from __future__ import annotations

import warnings

from aiohttp import multipart
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.listener.body import disposition_names


def aiohttp_names(header: str | None) -> tuple[str | None, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # aiohttp warns about the malformed headers drawn
        _kind, params = multipart.parse_content_disposition(header)
    name = multipart.content_disposition_filename(params, "name")
    return name, multipart.content_disposition_filename(params, "filename")


def test_the_forms_devices_send_and_the_odd_ones() -> None:
    for header in (
        'form-data; name="file"; filename="Logger1-AHI260110088-AcuRev2100-1780000000-1min.csv"',
        'form-data; name="MODE"',
        'form-data;name="x";filename="/etc/passwd"',  # leading slashes dropped, as aiohttp does
        'form-data; name="a"; name="b"',  # a repeated parameter: aiohttp keeps neither
        "form-data; filename*=utf-8''a%20b.csv",
        'form-data; name=""',
        'Form-Data; name="x"',
        'form-data; name="a;b"',
        'form-data; name="a\\"b"',
        ' form-data ; name="x" ',
        None,
        "",
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert disposition_names(header) == aiohttp_names(header), header


@settings(max_examples=3000, deadline=None)
@given(st.text(st.sampled_from(list('form-data;name="filename"\\/ *=xa;\t')), max_size=50))
def test_any_text_reads_as_aiohttp_reads_it(header: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert disposition_names(header) == aiohttp_names(header)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["name", "filename", "NAME", "filename*"]),
            st.text(st.sampled_from(list('ab/\\ ;."=é')), max_size=6),
        ),
        max_size=3,
    ),
    st.sampled_from(["; ", ";", " ; ", ";\t"]),
)
def test_parameter_lists_read_as_aiohttp_reads_them(
    params: list[tuple[str, str]], separator: str
) -> None:
    header = "form-data" + "".join(f'{separator}{key}="{value}"' for key, value in params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert disposition_names(header) == aiohttp_names(header)
