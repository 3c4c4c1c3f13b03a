"""GX plumbing without GX: Arrow -> pandas dtypes and GX index lists."""
from __future__ import annotations

import pyarrow as pa

from tasks.validation.gx import index_ids, to_pandas


def test_to_pandas_keeps_nullable_types_only_where_there_are_nulls():
    df = to_pandas(pa.table({
        "s": pa.array(["a", None]), "b": pa.array([True, False]), "bn": pa.array([True, None]),
        "i": pa.array([1, 2], pa.int32()), "i_null": pa.array([1, None], pa.int64()),
    }))
    assert str(df["b"].dtype) == "bool" and str(df["i"].dtype) == "int32"
    assert str(df["bn"].dtype) == "boolean" and str(df["i_null"].dtype) == "Int64"
    assert df["s"].dtype.storage == "pyarrow"


def test_index_ids_read_plain_and_dict_entries():
    assert index_ids([3, {"_row_id": 5}, {"_row_id": None}, None]) == [3, 5]
    assert index_ids(None) == []
