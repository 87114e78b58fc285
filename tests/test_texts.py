"""handlers/texts.py is edited by many hands: a key written twice in one table silently keeps only the last."""
import ast
from pathlib import Path

import handlers.texts

SOURCE = Path(handlers.texts.__file__).read_text(encoding="utf-8")


def test_no_text_is_defined_twice():
    tree = ast.parse(SOURCE)
    twice = []
    names = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    twice += [f"module: {n}" for n in sorted(set(names)) if names.count(n) > 1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            twice += [f"line {node.lineno}: {k}" for k in sorted(set(keys), key=str) if keys.count(k) > 1]
    assert not twice, twice
