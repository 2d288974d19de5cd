"""Build secrets as buildx's --secret takes them (harness.core.buildspec.secrets)."""

from __future__ import annotations

import pytest

from harness.core.buildspec.secrets import Secret, parse_secret
from harness.core.failures.errors import UsageError


@pytest.mark.parametrize(("text", "secret"), [
    ("id=token,src=token.txt", Secret("token", src="token.txt")),
    ("id=token,source=token.txt", Secret("token", src="token.txt")),
    ("id=token,env=GH_TOKEN", Secret("token", env="GH_TOKEN")),
    ("type=env,id=GH_TOKEN", Secret("GH_TOKEN", env="GH_TOKEN")),
    ("type=file,id=npmrc,src=/home/me/.npmrc", Secret("npmrc", src="/home/me/.npmrc")),
])
def test_buildx_forms_are_read_and_given_back(text: str, secret: Secret) -> None:
    assert parse_secret(text) == secret
    assert parse_secret(secret.flag()) == secret


@pytest.mark.parametrize(("text", "says"), [
    ("token", "is not of the form"),
    ("id=token", "one file (src=) or one variable (env=)"),
    ("id=token,src=a,env=B", "one file (src=) or one variable (env=)"),
    ("src=a", "has no id"),
    ("id=a,type=ssh,src=x", "neither file nor env"),
    ("id=a,id=b,src=x", "is not of the form"),
])
def test_a_bad_secret_is_one_usage_error(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_secret(text)
    assert says in caught.value.message
