"""Build secrets as buildx's --secret takes them (harness.core.buildspec.secrets)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.core.buildspec.secrets import Secret, SshForward, parse_secret, parse_ssh
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


@pytest.mark.parametrize(("text", "forward"), [
    ("default", SshForward("default")), ("", SshForward("default")),
    ("github", SshForward("github")),
    ("default=./sshkey", SshForward("default", ("./sshkey",))),
    ("deploy=/run/agent.sock,~/.ssh/id", SshForward("deploy", ("/run/agent.sock", "~/.ssh/id"))),
])
def test_ssh_forms_are_read_as_buildx_reads_them_and_given_back(
        text: str, forward: SshForward) -> None:
    assert parse_ssh(text) == forward
    assert parse_ssh(forward.flag()) == forward


@pytest.mark.parametrize("text", ["a b", "default=", "default=a,,b", "x,y=k"])
def test_a_malformed_ssh_spec_is_one_line_naming_the_form(text: str) -> None:
    with pytest.raises(UsageError, match="is not of the form default, ID, or ID=PATH"):
        parse_ssh(text)


@given(st.text(max_size=5000))
@example("a b" * 2000)  # a long spec, shown bounded
@example("\x1b[2J x")  # a terminal escape, shown inert
def test_any_ssh_spec_is_read_or_refused_in_one_bounded_line(text: str) -> None:
    try:
        forward = parse_ssh(text)
    except UsageError as exc:
        assert "\n" not in exc.message and "\x1b" not in exc.message
        assert len(exc.message) < 400
    else:
        assert parse_ssh(forward.flag()) == forward
