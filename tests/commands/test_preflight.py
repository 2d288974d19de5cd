"""preflight's survey: what it prints of an engine that does not answer."""

from __future__ import annotations

from harness.commands import preflight


def test_an_engine_url_s_password_is_not_printed_even_in_the_sdk_s_own_words() -> None:
    """The docker SDK refuses `tcp://user:PW@…` with "Invalid bind address format:
    tcp://user:PW@…"; preflight printed that message as it was."""
    other = preflight._other_engine("tcp://user:PW@127.0.0.1:1")
    assert other["problem"] and "Invalid bind address format" in other["problem"]
    survey = {"engine": {"version": "28", "api_version": "1.41", "arch": "x86_64",
                         "buildx": None}, "builder": "classic", "mmdebstrap": False,
              "engines": [other], "bridge": {"ok": True},
              "platforms": [{"platform": "linux/amd64", "kind": "unavailable", "describe": "",
                             "engine": other["url"], "problem": other["problem"] + "\x1b[2J",
                             "fix": other["fix"]}]}
    shown = "\n".join(preflight.render(survey))
    assert "PW" not in shown and "user:***@127.0.0.1:1" in shown
    assert "\x1b" not in shown  # the SDK's words are data: escaped for the terminal


def test_a_podman_engine_is_named_as_podman_with_the_classic_builder() -> None:
    survey = {"engine": {"version": "4.3.1", "api_version": "1.41", "arch": "x86_64",
                         "buildx": None, "kind": "Podman"}, "builder": "classic",
              "mmdebstrap": True, "engines": [{"url": "unix:///run/p.sock", "version": "4.3.1",
                                               "arch": "x86_64", "kind": "Podman",
                                               "classic_only": True}],
              "bridge": {"ok": True}, "platforms": [
                  {"platform": p, "kind": "native", "describe": "native", "proofs": [],
                   "problem": None, "fix": None, "engine": where}
                  for p, where in (("linux/arm64", "unix:///run/p.sock"),
                                   ("linux/amd64", None))]}
    shown = preflight.render(survey)
    assert shown[0] == "engine    Podman 4.3.1 (API 1.41) on x86_64"
    assert shown[1] == "builder   classic builder through the docker SDK"
    assert "engine    unix:///run/p.sock: Podman 4.3.1 on x86_64" in shown
    said = [line for line in shown if "classic build by" in line]
    assert said == ["linux/arm64 on Podman: classic build by Podman's Buildah, no BuildKit"]
