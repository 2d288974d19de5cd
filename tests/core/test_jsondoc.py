"""The bounded JSON reader: size, depth and non-finite numbers refused before anything is
trusted, any depth measured without recursion, and every document within bounds read as
json reads it (hypothesis)."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core import jsondoc

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@given(JSON)
def test_every_document_within_bounds_reads_as_json_reads_it(value: object) -> None:
    text = json.dumps(value)
    assert jsondoc.parse(text, max_bytes=1 << 20) == json.loads(text)
    assert jsondoc.parse(text.encode(), max_bytes=1 << 20) == json.loads(text)


@given(st.text(alphabet='[]{}"\\ ,:ab', max_size=200))
def test_any_text_is_measured_and_refused_or_read_without_recursion(text: str) -> None:
    try:
        value = jsondoc.parse(text, max_bytes=1 << 20, max_depth=3)
    except jsondoc.Exceeded:
        assert jsondoc.depth(text) > 3
    except ValueError:
        with pytest.raises(ValueError):  # what json itself refuses, or nothing it reads
            json.loads(text)
    else:
        assert value == json.loads(text)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_document_200k_deep_is_refused_by_its_depth_fast(opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = opening * 200_000 + "1" + closing * 200_000
    start = time.monotonic()
    with pytest.raises(jsondoc.Exceeded) as info:
        jsondoc.parse(text, max_bytes=1 << 30)
    assert time.monotonic() - start < 2.0
    assert (info.value.limit, info.value.allowed) == ("depth", jsondoc.MAX_DEPTH)
    assert "64 levels of nesting" in str(info.value)


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert jsondoc.depth('{"a": "[[[[{{", "b": ["x\\"]]]["]}') == 2
    assert jsondoc.depth("[]") == 1
    assert jsondoc.depth('"[[[') == 0  # an unterminated string: the rest is inside it
    assert jsondoc.parse('[[["[[[[[[[["]]]', max_bytes=100, max_depth=3) == [[["[[[[[[[["]]]
    with pytest.raises(jsondoc.Exceeded):
        jsondoc.parse("[[[[]]]]", max_bytes=100, max_depth=3)


def test_a_document_over_its_size_is_refused_before_it_is_read() -> None:
    with pytest.raises(jsondoc.Exceeded) as info:
        jsondoc.parse(b"[" + b"0," * 600 + b"0]", max_bytes=1000)
    assert (info.value.limit, info.value.allowed) == ("size", 1000)
    with pytest.raises(jsondoc.Exceeded):  # characters beyond ASCII are counted as bytes
        jsondoc.parse('"' + "\u00e9" * 600 + '"', max_bytes=1000)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"s": -Infinity}', "1e999",
                                  "[-1e400]"])
def test_non_finite_numbers_are_not_json(text: str) -> None:
    assert not math.isfinite(float(json.loads(text.strip("[]{}\"s: ") or "0")))
    with pytest.raises(ValueError, match=r"not JSON|out of range"):
        jsondoc.parse(text, max_bytes=100)


def test_what_is_not_json_is_a_value_error() -> None:
    for text in ("{not json", b"\xff\xfe", '"open', "[1,]"):
        with pytest.raises(ValueError):
            jsondoc.parse(text, max_bytes=100)


def test_the_canonical_text_is_one_for_one_content_and_refuses_nan() -> None:
    assert jsondoc.canonical({"b": 1, "a": [1.5, "é"]}) == \
        jsondoc.canonical({"a": [1.5, "é"], "b": 1}) == '{"a":[1.5,"é"],"b":1}'
    with pytest.raises(ValueError):
        jsondoc.canonical({"x": math.nan})
