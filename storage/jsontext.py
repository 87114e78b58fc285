"""JSON text exactly as `json.JSONEncoder(ensure_ascii=False, separators=...).encode` writes it, from one C
encoder made once (issue 10: every message writes JSON four or five times on the writer thread).

`JSONEncoder.encode` makes a new C encoder on every call, through two Python frames, and tracks every list and
dict it enters to refuse cycles. What is written here never has cycles (drafts, replies, messages: values read
from JSON or built of plain values), so the encoder made here does not track them; a cycle would end in
RecursionError instead of ValueError. Anything else -- text, numbers, NaN, keys that are not strings, a value
JSON cannot write (TypeError) -- is as `encode` has it."""
from __future__ import annotations

import json
from json import encoder as _encoder
from typing import Any, Callable


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
