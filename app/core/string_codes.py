"""Dictionary encoding of a batch's string columns, done once per column.

The duplicate guard, the mapping and the import-file writer all need the
distinct source ids of a batch and each row's code; on millions of readings
hashing the strings is the cost, so the last few encodings are remembered by
the identity of the Arrow data they were made from (held alive, so the memory
cannot be reused by another array while cached). A connector that built a
column from a few per-row values knows its encoding already: the pipeline hands
it over with `remember` (a connector's `ReadingBatch.info["string_codes"]`), so
the strings are never hashed at all.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_CACHE: OrderedDict[tuple[int, ...], tuple[Any, Any]] = OrderedDict()
_LOCK = Lock()
_KEEP = 4  # the source and quantity columns of the two batches in flight (read, written)


def arrow(values: Any) -> Any:
    """A pyarrow (large) string array of a column; no copy when it is Arrow-backed."""
    if isinstance(values, pd.Series):
        values = values.array
    if hasattr(values, "__arrow_array__"):
        array = values.__arrow_array__()
    else:
        array = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return array


def _key(array: Any) -> tuple[int, ...] | None:
    """Identity of the array's memory: validity, offsets and data buffers, offset, length."""
    buffers = array.buffers()
    if len(buffers) < 3 or buffers[1] is None or buffers[2] is None:
        return None
    validity = buffers[0].address if buffers[0] is not None else 0
    return validity, buffers[1].address, buffers[2].address, array.offset, len(array)


def encoded(values: Any) -> Any:
    """The `pyarrow.DictionaryArray` of a string column (first-seen order, nulls encoded)."""
    array = arrow(values)
    key = _key(array)
    with _LOCK:
        hit = _CACHE.get(key) if key is not None else None
        if hit is not None and key is not None:
            _CACHE.move_to_end(key)
    if hit is not None:
        return hit[1]
    if _all_same(array):
        result = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(len(array), dtype="int32")), array.slice(0, 1)
        )
    else:
        result = pc.dictionary_encode(array, null_encoding="encode")
    if key is not None:
        with _LOCK:
            _CACHE[key] = (array, result)
            while len(_CACHE) > _KEEP:
                _CACHE.popitem(last=False)
    return result


def remember(values: Any, encoding: Any) -> bool:
    """Take `encoding` (a DictionaryArray, first-seen order) as the encoding of `values`.

    Returns False, remembering nothing, when it cannot be that column's encoding
    (another length) or the column is not held as one Arrow array.
    """
    if not _one_chunk(values):
        return False  # read back as a new concatenation each time: never found again
    array = arrow(values)
    key = _key(array)
    if key is None or not isinstance(encoding, pa.DictionaryArray) or len(encoding) != len(array):
        return False
    with _LOCK:
        _CACHE[key] = (array, encoding)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _KEEP:
            _CACHE.popitem(last=False)
    return True


def _one_chunk(values: Any) -> bool:
    """Whether a column is held as one Arrow array (not several chunks)."""
    if isinstance(values, pd.Series):
        values = values.array
    if not hasattr(values, "__arrow_array__"):
        return False
    array = values.__arrow_array__()
    return not isinstance(array, pa.ChunkedArray) or array.num_chunks == 1


def one_value(values: Any) -> bool:
    """Whether a string column holds one value throughout (all null counts as one), as
    `codes(values)[1] == 1` says, without caching an encoding."""
    array = arrow(values)
    if not len(array) or array.null_count:
        return len(array) > 0 and array.null_count == len(array)
    key = _key(array)
    with _LOCK:
        hit = _CACHE.get(key) if key is not None else None
    return len(hit[1].dictionary) == 1 if hit is not None else _all_same(array)


def _all_same(array: Any) -> bool:
    """Whether a null-free array holds one value: every length equals the first's and
    the bytes are the first value repeated (buffer checks, no per-value kernel)."""
    if not len(array) or array.null_count or array[0] != array[len(array) - 1]:
        return False
    word = array[0].as_py().encode()
    kind = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(array.buffers()[1], dtype=kind)[
        array.offset : array.offset + len(array) + 1
    ]
    first, last = int(offsets[0]), int(offsets[-1])
    if last - first != len(word) * len(array) or not bool((np.diff(offsets) == len(word)).all()):
        return False
    data = array.buffers()[2]
    return not word or bool(data.slice(first, last - first).equals(pa.py_buffer(word * len(array))))


def codes(values: Any) -> tuple[np.ndarray[Any, Any], int]:
    """(int64 code of each row, number of distinct values) of a string column."""
    result = encoded(values)
    indices = result.indices.to_numpy(zero_copy_only=False).astype("int64")
    return indices, len(result.dictionary)
