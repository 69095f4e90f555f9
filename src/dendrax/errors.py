"""Exception classes shared across dendrax.

Jaxley guards many builder operations with ``assert``; dendrax raises a ``ValueError`` with a
message that says what was wrong and how to fix it. So that user code written against
Jaxley (``except AssertionError``, ``pytest.raises(AssertionError)``) keeps working, those
errors are :class:`ModelError`, which derives from both.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ModelError(ValueError, AssertionError):
    """An operation on a model that is not allowed, or a value that is out of range.

    It is a ``ValueError`` (the idiomatic class for a bad argument) and an
    ``AssertionError`` (what Jaxley 0.14 raises for the same conditions).
    """


class IndexOutOfViewError(ModelError, IndexError):
    """A `cell/branch/comp` index that selects nothing in the current view.

    An ``IndexError`` (the index is out of range), and through :class:`ModelError` a
    ``ValueError`` (what Jaxley 0.14 raises: "Nothing in view").
    """


def unknown_name_error(kind: str, name: str, valid: Iterable[str]) -> KeyError:
    """A KeyError for an unknown `kind` name, listing close matches and the valid names."""
    valid = sorted(set(valid))
    close = difflib.get_close_matches(str(name), valid, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(valid[:40]) + (", ..." if len(valid) > 40 else "")
    return KeyError(f"Unknown {kind} {name!r}.{hint} Valid names: {shown}.")
