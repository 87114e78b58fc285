"""Reading a TOML file that a setting names (the configuration itself, surveys, common questions, service items):
one rule for what can go wrong, each error naming the file, raised as the caller's own error type. Here, in the
lowest layer, so that every layer can use it."""
from __future__ import annotations

import pickle
import tomllib
from pathlib import Path
from typing import Any


# file content -> its parsed tables, pickled: the same files (the demo's surveys, common questions, service items)
# are read at every start-up of an app, and parsing them cost more than a copy. Keyed by the bytes read, so an
# edited file is parsed again; each caller gets its own copy to change.
_PARSED: dict[bytes, bytes] = {}
_PARSED_MAX = 32


def read_toml(path: str | Path, error: type[Exception]) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        parsed = _PARSED.get(data)
        if parsed is not None:
            return pickle.loads(parsed)
        tables = tomllib.loads(data.decode())  # (what tomllib.load does with the file's bytes)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[data] = pickle.dumps(tables)
        return tables
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as exc:  # a folder, no permission to read
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:  # e.g. saved as GBK by an editor: TOML is UTF-8
        raise error(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
