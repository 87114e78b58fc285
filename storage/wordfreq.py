"""jieba's main dictionary (word -> frequency, each word's prefixes at 0: half a million entries), held compactly.

As jieba builds it, a dict of half a million str keys took ~60 MB of every serving process, the largest part of a
worker's RSS (bench/README.md, "A worker's memory: jieba's dictionary as a trie"). Here the same entries are a
MARISA trie (marisa-trie) of the keys, ~1 MB, and an array of their frequencies indexed by the trie's key ids,
~2 MB. `Frequencies` reads like jieba's dict (in, [], get, len, iteration), so jieba's own cuts, the router's
overlay (handlers/routing/router.py) and the digest's rarity use it as they used the dict.

Built once from jieba's own `gen_pfdict` (the same entries and total, to the bit) and kept in a cache file
keyed by jieba's version and the dictionary's contents; a later process, of any checkout, only reads it."""
from __future__ import annotations

import array
import functools
import hashlib
import logging
import os
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

_MAGIC = b"tingjian-wordfreq-1\n"
_HEAD = struct.Struct("<QQ32s")  # total, the trie's bytes, blake2b of what follows the head
_lock = threading.Lock()
KEEP = 4  # cache files kept in the folder (see _write)


class Frequencies(Mapping):
    """word -> frequency (0: only the start of longer words), read-only. A look-up is the trie's key id (C) and
    the array's item at it."""

    __slots__ = ("_trie", "_freq", "_id")

    def __init__(self, trie, freq: array.array):
        if len(trie) != len(freq):
            raise ValueError(f"{len(trie)} words but {len(freq)} frequencies")
        self._trie, self._freq, self._id = trie, freq, trie.get

    def get(self, word, default=None):
        i = self._id(word) if isinstance(word, str) else None
        return default if i is None else self._freq[i]

    def __getitem__(self, word) -> int:
        i = self._id(word) if isinstance(word, str) else None
        if i is None:
            raise KeyError(word)
        return self._freq[i]

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self._id(word) is not None

    def __len__(self) -> int:
        return len(self._trie)

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __setitem__(self, word, freq) -> None:
        # jieba.add_word on the shared tokenizer would change every user's cut: words are added to a tokenizer of
        # one's own (the router's overlay)
        raise TypeError("jieba's shared dictionary is read-only: add words to a tokenizer of your own")


def install():
    """jieba's default tokenizer (jieba.dt, which the search index cuts with) on the compact dictionary, once per
    process. Returns (FREQ, total). A dict jieba built before (jieba.dt.initialize()) is replaced, and freed."""
    import jieba
    with _lock:
        dt = jieba.dt
        if not (dt.initialized and isinstance(dt.FREQ, Frequencies)):
            with dt.lock:
                dt.FREQ, dt.total = load(dt)
                dt.initialized = True
        return dt.FREQ, dt.total


def load(tokenizer) -> tuple[Frequencies, int]:
    """The tokenizer's main dictionary as Frequencies: from the cache file when it is there and whole, else built
    from the dictionary file and written there for the next process."""
    import marisa_trie
    source = _source(tokenizer)
    path = _cache_dir() / f"jieba-{_fingerprint(source)}.wordfreq"
    try:
        return _read(path, marisa_trie)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("jieba's dictionary cache %s unreadable (%s): built again", path, exc)
    freq, total, blob = _build(tokenizer, marisa_trie)
    try:
        _write(path, blob)
    except OSError as exc:
        log.warning("jieba's dictionary cache not written (%s): each start builds it again (seconds); "
                    "set XDG_CACHE_HOME to a writable folder", exc)
    return freq, total


def _source(tokenizer) -> Path:
    import jieba
    if tokenizer.dictionary == jieba.DEFAULT_DICT:
        return Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    return Path(tokenizer.dictionary).resolve()


def _fingerprint(source: Path) -> str:
    """The cache file's key: the dictionary's bytes, not its path. Every checkout or virtualenv of one jieba
    release then shares one file; keyed by path, each had its own, and with more than KEEP of them on one machine
    (helpers' trees, CI clones) they evicted each other, so most starts rebuilt it (1.2 s of CPU; a server's start
    1.7 -> 2.9 s of CPU)."""
    st = source.stat()
    return _content_key(str(source), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _content_key(source: str, _size: int, _mtime_ns: int) -> str:
    """(Read once a process for each state of the file: ~8 ms for jieba's 5 MB dictionary.)"""
    import jieba
    from importlib import metadata
    digest = hashlib.blake2b(Path(source).read_bytes(), digest_size=16).hexdigest()
    key = f"{digest}\0jieba {jieba.__version__}\0marisa-trie {metadata.version('marisa-trie')}\0{sys.byteorder}" \
          f"\0{_MAGIC!r}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _cache_dir() -> Path:
    """systemd's CacheDirectory= (deploy/tingjian.service), else the user's cache folder."""
    if os.environ.get("CACHE_DIRECTORY"):
        return Path(os.environ["CACHE_DIRECTORY"].split(":")[0])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tingjian"


def _build(tokenizer, marisa_trie) -> tuple[Frequencies, int, bytes]:
    words, total = tokenizer.gen_pfdict(tokenizer.get_dict_file())  # jieba's own reading: its entries exactly
    trie = marisa_trie.Trie(words)
    freq = array.array("I", bytes(4 * len(trie)))
    for word, f in words.items():
        freq[trie[word]] = f
    del words
    body = trie.tobytes() + freq.tobytes()
    blob = _MAGIC + _HEAD.pack(total, len(body) - 4 * len(freq), hashlib.blake2b(body, digest_size=32).digest()) + body
    return Frequencies(trie, freq), total, blob


def _read(path: Path, marisa_trie) -> tuple[Frequencies, int]:
    blob = path.read_bytes()
    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _HEAD.size:
        raise ValueError("not a dictionary cache of this version")
    total, trie_size, digest = _HEAD.unpack_from(blob, len(_MAGIC))
    body = memoryview(blob)[len(_MAGIC) + _HEAD.size:]
    if hashlib.blake2b(body, digest_size=32).digest() != digest or (len(body) - trie_size) % 4:
        raise ValueError("damaged")
    trie = marisa_trie.Trie().frombytes(bytes(body[:trie_size]))
    freq = array.array("I")
    freq.frombytes(body[trie_size:])
    return Frequencies(trie, freq), total


def _write(path: Path, blob: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)  # whole or not at all, whichever process writes it first
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # one file per installation of jieba (its dictionary's path and time): the newest few are kept, not every one
    # an upgrade or a second checkout left
    old = sorted(path.parent.glob("jieba-*.wordfreq"), key=lambda f: f.stat().st_mtime, reverse=True)[KEEP:]
    for f in old:
        f.unlink(missing_ok=True)
