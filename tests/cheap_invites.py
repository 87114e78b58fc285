"""Invite codes are hashed with scrypt at 16 MiB, ~0.1 s a hash (storage.staff.SCRYPT), twice per binding (made,
redeemed). Tests that move staff about by the dozen to check counting or who may act, not hashing, bind with the
same code, salt, selector and checks at a cost of almost nothing; tests/test_security.py keeps the real cost."""
from __future__ import annotations

from unittest import mock

from storage import staff

CHEAP = {"n": 2, "r": 1, "p": 1}


def cheap_invites():
    """A context in which invite codes hash cheaply (every stored hash of it reads back inside it)."""
    return mock.patch.dict(staff.SCRYPT, CHEAP)
