"""JSON text exactly as `json.JSONEncoder(ensure_ascii=False, separators=...).encode` writes it, from one C
encoder made once (issue 10: every message writes JSON four or five times on the writer thread).

`JSONEncoder.encode` makes a new C encoder on every call, through two Python frames, and tracks every list and
dict it enters to refuse cycles. What is written here never has cycles (drafts, replies, messages: values read
from JSON or built of plain values), so the encoder made here does not track them; a cycle would end in
RecursionError instead of ValueError. Anything else -- text, numbers, NaN, keys that are not strings, a value
JSON cannot write (TypeError) -- is as `encode` has it."""
from __future__ import annotations

import functools
import json
from json import encoder as _encoder
from typing import Any, Callable

import orjson


def encoder(separators: tuple[str, str] = (", ", ": ")) -> Callable[[Any], str]:
    reference = json.JSONEncoder(ensure_ascii=False, separators=separators)
    if _encoder.c_make_encoder is None:  # no C accelerator: json's own
        return reference.encode
    item, key = separators
    make = _encoder.c_make_encoder(None, reference.default, _encoder.encode_basestring, None, key, item,
                                   False, False, True)
    quote = _encoder.encode_basestring

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return quote(value)
        return "".join(make(value, 0))
    return encode


def values_encoder(exact: Callable[[Any], str], utf8: bool = False) -> Callable[[Any], str | bytes]:
    """JSON text that `json.loads` reads as the very values `exact`'s text gives (not its bytes: no spaces, other
    float forms): orjson's (~10x json's encoder) where orjson writes those values, `exact`'s for the rest -- NaN
    and infinities (orjson writes null), ints past 64 bits, keys that are not strings, lone surrogates, and any
    other type (orjson writes dataclasses and datetimes, which json refuses). A value with a `json_text` is put in
    as that text (as `exact` must do too).

    utf8: orjson's text as the UTF-8 bytes it makes (`exact`'s stays a str), for a statement that stores it as
    TEXT (`CAST(? AS TEXT)`, STORED_TEXT): the same text in the file, without decoding it here and encoding it
    again in sqlite3's binding (~2 µs for a draft, written on every message)."""
    def encode(value: Any) -> str | bytes:
        try:
            if _orjson_writes(value):
                return _orjson(value, default=_fragment) if utf8 else _orjson(value, default=_fragment).decode()
        except TypeError:  # orjson.JSONEncodeError: a big int, a key that is no string, a lone surrogate
            pass
        return exact(value)
    return encode


# The SQL placeholder for a values_encoder(utf8=True) value: bytes are stored as the TEXT they spell (orjson's are
# valid UTF-8, never a NUL), a str as it is -- the column reads back a str either way, as before.
STORED_TEXT = "CAST(? AS TEXT)"


_SCALAR = frozenset({str, bool, type(None), int})  # an int past 64 bits: orjson refuses it (TypeError)
_FINITE_MAX = 1.7976931348623157e308


def _orjson_writes(value: Any) -> bool:
    """Whether orjson writes the very values json would: no NaN or infinity, no types but json's own."""
    t = type(value)
    if t is dict:
        for v in value.values():
            if type(v) not in _SCALAR and not _orjson_writes(v):
                return False
        return True
    if t is list or t is tuple:
        for v in value:
            if type(v) not in _SCALAR and not _orjson_writes(v):
                return False
        return True
    if t is float:
        return -_FINITE_MAX <= value <= _FINITE_MAX  # False for NaN too
    return t in _SCALAR or getattr(value, "json_text", None) is not None


def _fragment(value: Any) -> Any:
    text = getattr(value, "json_text", None)
    if text is None:
        raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")
    return orjson.Fragment(text)


_orjson = functools.partial(orjson.dumps, option=orjson.OPT_PASSTHROUGH_SUBCLASS)  # a subclass (Routing) to _fragment
