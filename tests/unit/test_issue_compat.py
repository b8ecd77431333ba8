"""``Issue`` keeps the frozen slotted dataclass's behaviour with its hand-written constructor.

The constructor stores the fields through the slots' descriptors (faster than the generated frozen
``__init__``, issue 18 fifth pass); everything else other code relies on (the service, the legacy
side, the store build and read Issues) is compared here with the dataclass as it was, frozen below.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.core.errors import Issue


@dataclass(frozen=True, slots=True)
class OldIssue:
    """bridge.core.errors.Issue before the fifth pass (verbatim but for the name)."""

    path: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


text = st.text(max_size=20)


@given(text, text, st.one_of(st.none(), text))
def test_same_fields_equality_hash_repr_str(path: str, message: str, code: str | None) -> None:
    if code is None:
        new, old = Issue(path, message), OldIssue(path, message)
        by_keyword = Issue(message=message, path=path)
    else:
        new, old = Issue(path, message, code), OldIssue(path, message, code)
        by_keyword = Issue(code=code, message=message, path=path)
    assert (new.path, new.message, new.code) == (old.path, old.message, old.code)
    assert repr(new) == repr(old).replace("OldIssue(", "Issue(", 1)
    assert str(new) == str(old)
    assert hash(new) == hash(old)  # the dataclass hash: the fields' tuple
    assert new == by_keyword and hash(new) == hash(by_keyword)
    assert new != old  # a dataclass equals only its own class
    assert dataclasses.asdict(new) == dataclasses.asdict(old)
    assert dataclasses.astuple(new) == dataclasses.astuple(old)


def test_same_dataclass_surface() -> None:
    assert [(f.name, f.default) for f in dataclasses.fields(Issue)] == [
        (f.name, f.default) for f in dataclasses.fields(OldIssue)]
    assert [(p.name, p.default, p.kind) for p in inspect.signature(Issue).parameters.values()] == [
        (p.name, p.default, p.kind) for p in inspect.signature(OldIssue).parameters.values()]
    assert Issue.__match_args__ == OldIssue.__match_args__
    assert Issue.__slots__ == OldIssue.__slots__
    issue = Issue("/a", "m", "dropped")
    assert not hasattr(issue, "__dict__")
    assert dataclasses.replace(issue, code="x") == Issue("/a", "m", "x")
    assert pickle.loads(pickle.dumps(issue)) == issue
    assert copy.deepcopy(issue) == issue and copy.copy(issue) == issue
    match issue:
        case Issue(path, message, code):
            assert (path, message, code) == ("/a", "m", "dropped")


def test_still_frozen_and_strict_about_arguments() -> None:
    issue = Issue("/a", "m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.path = "/b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del issue.code  # type: ignore[misc]
    raised: list[type] = []
    for kind in (Issue, OldIssue):  # a new attribute: what the slotted frozen dataclass raises (TypeError on 3.11)
        try:
            kind("/a", "m").other = 1  # type: ignore[attr-defined]
        except (AttributeError, TypeError) as exc:
            raised.append(type(exc))
    assert len(raised) == 2 and raised[0] is raised[1]
    for args, kwargs in (((), {}), (("/a",), {}), (("/a", "m", "c", "d"), {}), (("/a", "m"), {"path": "/b"}),
                         (("/a", "m"), {"severity": "x"})):
        with pytest.raises(TypeError):
            Issue(*args, **kwargs)
        with pytest.raises(TypeError):
            OldIssue(*args, **kwargs)
