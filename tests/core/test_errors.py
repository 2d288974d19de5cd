"""The harness's errors: whatever an exception's message carries reaches no sink unredacted."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from harness.core.failures import errors
from harness.core.failures.errors import HarnessError


def _every(cls: type[HarnessError]) -> list[type[HarnessError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _every(child))]


KINDS = _every(HarnessError)
# What the redaction must find: a user and a password in an engine URL, a registry URL or a
# bare reference, inside any text (the docker SDK's own "Invalid bind address format: …").
WORD = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                             exclude_characters="/@:'\"<>(=,[\\"), min_size=1, max_size=12)
AROUND = st.text(st.characters(exclude_characters="@"), max_size=40).map(lambda t: t + " ")


@given(st.sampled_from(KINDS), AROUND, st.sampled_from(["tcp://", "https://", "ssh://", ""]),
       WORD, WORD, AROUND)
@example(errors.EngineUnavailable, "Invalid bind address format: ", "tcp://", "user", "PW",
         " (--engine)")
def test_no_message_or_fix_carries_a_password(kind: type[HarnessError], before: str,
                                               scheme: str, user: str, secret: str,
                                               after: str) -> None:
    said = f"{before}{scheme}{user}:{secret}P@127.0.0.1:1/app{after}"
    exc = kind(said, f"start the engine at {said}")
    for shown in (exc.message, exc.fix, str(exc), *exc.args):
        assert f":{secret}P@" not in shown and f"{user}:***@127.0.0.1:1/app" in shown
