"""Issue 12 item 1: masking secrets in a log line costs time linear in the line, and a line stays small.

The URL-credentials pattern ``[a-z][a-z0-9+.-]*://`` was retried from every letter of a
run: 40,000 letters took 8 s, 200,000 took 208 s, with the reactor frozen. Each test
here carries a timeout far above the linear cost (milliseconds) and far below the
quadratic one, so a return of the quadratic pattern fails it, not a slow machine.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.runtime.security import MASK, MAX_LOGGED_CHARS, redact_secrets

BIG = 200_000

# The patterns as they were before the fix: the reference for what must still be masked.
_OLD_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
_OLD_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_OLD_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL)


def _old_scrub(text: str) -> str:
    text = _OLD_URL.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _OLD_BEARER.sub(lambda m: f"{m[1]} {MASK}", text)
    return _OLD_PEM.sub(f"-----PRIVATE KEY {MASK}-----", text)


def _logged(value: object) -> object:
    return redact_secrets(None, "info", {"event": "rs-error received", "error": value})["error"]


HOSTILE_SHAPES = {
    "letters": "a" * BIG,
    "digits": "7" * BIG,
    "letters-and-digits": "ab1" * (BIG // 3),
    "scheme-chars": "a+b.c-" * (BIG // 6),
    "many-schemes": "http://" * (BIG // 7),
    "many-users": "h://u:" * (BIG // 6),
    "bearer-spaces": "Bearer" + " " * BIG,
    "many-bearers": "Bearer " * (BIG // 7),
    "pem-begins": "-----BEGIN " + "A" * BIG,
    "pem-many-ends": "-----BEGIN RSA PRIVATE KEY-----" + "-----END " * (BIG // 9),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", sorted(HOSTILE_SHAPES))
def test_200kb_values_are_redacted_in_linear_time_and_cut(shape):
    """A 200 kB value of any hostile shape: redacted, then cut to the cap with a marker naming the cut."""
    text = HOSTILE_SHAPES[shape]
    logged = _logged(text)
    assert isinstance(logged, str)
    assert len(logged) < MAX_LOGGED_CHARS + 60
    cut = re.search(r"\.\.\.\[cut (\d+) of (\d+) chars\]$", logged)
    # either cut with the marker, or (a key block running to the end) masked whole
    assert cut or logged == f"-----PRIVATE KEY {MASK}-----", logged[-80:]


@pytest.mark.timeout(20)
def test_secret_after_a_long_run_is_still_masked_before_the_cut():
    """A credential that follows 200 kB of letters is masked (redaction runs on the whole value first)."""
    text = "a" * 1000 + " amqps://bridge:s3cret@hub:5671/ " + "b" * BIG
    logged = _logged(text)
    assert "s3cret" not in logged and f"amqps://bridge:{MASK}@hub" in logged


def test_nested_and_bytes_values_are_cut_too():
    """Strings inside lists and dicts, and bytes, are cut like top-level strings."""
    logged = _logged({"frames": ["x" * 5000, b"\x02" * 5000]})
    assert isinstance(logged, dict)
    text, raw = logged["frames"]
    assert text.endswith(f"...[cut {5000 - MAX_LOGGED_CHARS} of 5000 chars]")
    assert raw.endswith(f"...[cut {5000 - MAX_LOGGED_CHARS} of 5000 bytes]")


def test_short_values_are_untouched():
    """Below the cap nothing changes."""
    assert _logged("x" * MAX_LOGGED_CHARS) == "x" * MAX_LOGGED_CHARS


@pytest.mark.parametrize("text", [
    "connecting to amqps://bridge:s3cret@hub:5671/",
    "1http://u:p@h", "x_https://u:p@h", "123://u:p@h", "AMQP+SSL://User:Pw@Host",
    "a://b:c@d://e:f@g", "http://u:p@h and ftp://v:q@i", "Authorization: Basic dXNlcjpwdw==",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- tail",
])
def test_known_secrets_are_masked_as_before(text):
    """Hand-picked credentials come out exactly as the old patterns masked them."""
    assert _logged(text) == _old_scrub(text)
    assert _logged(text) != text or "://" not in text or text.startswith("123")


_ALPHABET = st.sampled_from(list("ab1+.-:/@ \nBearsicPRIVATEKY") + ["://", "Bearer ", "Basic ",
                                                                   "-----BEGIN RSA PRIVATE KEY-----",
                                                                   "-----END RSA PRIVATE KEY-----"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_redaction_masks_exactly_what_it_masked_before(text):
    """Property: on short random texts built from the patterns' own pieces, new output == old output."""
    assert _logged(text) == _old_scrub(text)
