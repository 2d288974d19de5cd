"""container-structure-test configs: read as CST reads them, judged as CST judges them."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers import observation as obs
from harness.core.declared import structure as cst
from harness.core.declared import structure_rules as rules
from harness.core.declared.usercheck import PatternTimeout
from harness.core.failures.errors import UsageError
from harness.core.judging.verdicts import judge
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms.table import parse_platform

FIXTURES = Path(__file__).parents[1] / "fixtures" / "structure"
ARM64 = parse_platform("linux/arm64")
ARM = parse_platform("linux/arm/v7")
QEMU = RunMode("qemu", "qemu-aarch64", "x", "PF", "7.2")


def load(name: str) -> cst.StructureFile:
    return cst.parse(yaml.safe_load((FIXTURES / name).read_text()), name)


def one(section: str, **spec: Any) -> Any:
    data: dict[str, Any] = {"schemaVersion": "2.0.0", section: [{"name": "t", **spec}]}
    [test] = cst.parse(data, "f.yaml").tests
    return test


# -- reading ----------------------------------------------------------------------------------

def test_csts_own_configs_are_read_unmodified_in_csts_order() -> None:
    sf = load("ubuntu_22_04_test.yaml")
    assert [t.name for t in sf.tests] == [
        "apt-get", "apt-config", "path", "Debian Sources", "Passwd file", "Root", "Date",
        "Hosts File", "Machine ID", "Dummy File", "License Test"]
    apt = sf.tests[0]
    assert isinstance(apt, cst.CommandTest)
    assert apt.command == ("apt-get", "help") and apt.excluded_error == (".*FAIL.*",)
    date = next(t for t in sf.tests if t.name == "Date")
    assert isinstance(date, cst.FileExistenceTest)
    assert date.should_exist and date.uid == cst.NO_OWNER  # CST's defaults
    assert sf.source(date) == "cst:ubuntu_22_04_test.yaml::Date"
    [meta] = load("ubuntu_22_04_metadata_test.yaml").tests
    assert isinstance(meta, cst.MetadataTest)
    assert cst.EnvVar("REGEX_VAR", r"[a-z]+-2\.1\.*", True) in meta.env
    assert meta.unexposed_ports == ("80",) and meta.unmounted_volumes == ("/root",)


def test_a_schema_cst_never_had_is_refused_naming_the_fix() -> None:
    with pytest.raises(UsageError) as err:
        cst.parse({"schemaVersion": "3.0.0"}, "f.yaml")
    assert "schemaVersion '3.0.0' is not one CST has" in err.value.message
    assert "schemaVersion: '2.0.0'" in err.value.fix


def test_csts_own_configs_of_every_released_schema_are_read_with_their_meaning() -> None:
    """CST's own configs, unmodified: schema 1.0.0 (a command and its arguments in one list)
    and metadataTest's env of releases v0.1.0 to v1.11.0 (envVars since v1.13.0)."""
    v1 = load("ubuntu_22_04_failure_test.yaml")
    bad = v1.tests[0]
    assert isinstance(bad, cst.CommandTest) and bad.name == "bad apt-get-command"
    assert bad.command == ("apt-get", "dslkfjasl") and bad.exit_code == 1
    [meta] = load("ubuntu_20_04_metadata_test.yaml").tests
    assert isinstance(meta, cst.MetadataTest)
    assert cst.EnvVar("SOME_KEY", "SOME_VAL") in meta.env
    assert cst.EnvVar("REGEX_VAR", r"[a-z]+-2\.1\.*", True) in meta.env
    config = rules.ImageConfig.of({"Env": ["SOME_KEY=OTHER", "EMPTY_VAR=", r"FOO_BAR=FOO\:BAR=BAZ",
                                         "REGEX_VAR=test-2.1.8"]})
    assert rules.judge_metadata(replace(meta, labels=()), config, ARM64) == [
        "env var SOME_KEY value OTHER does not match expected value: SOME_VAL"]


@pytest.mark.parametrize(("data", "said", "hint"), [
    # keys only pull requests had, never a release: refused, with the nearest known key
    ({"schemaVersion": "2.0.0", "fileExistenceTests": [
        {"name": "a", "path": "/", "isDirectory": True}]}, "unknown key 'isDirectory'", ""),
    ({"schemaVersion": "2.0.0", "containerRunOptions": {"sysctls": ["a=1"]}},
     "unknown key 'sysctls'", ""),
    ({"schemaVersion": "2.0.0", "metadataTest": {"unboundEnv": [{"key": "A"}]}},
     "unknown key 'unboundEnv'", "did you mean 'unboundEnvVars'?"),
    # schema 1.0.0 never had 2.0.0's keys
    ({"schemaVersion": "1.0.0", "metadataTest": {"env": []}}, "unknown key 'metadataTest'",
     ""),
    ({"schemaVersion": "1.0.0", "commandTests": [{"name": "a", "command": "x"}]},
     "command must be a non-empty list of strings", ""),
])
def test_a_key_no_release_knew_is_refused_with_the_nearest(data: dict[str, Any], said: str,
                                                           hint: str) -> None:
    with pytest.raises(UsageError) as err:
        cst.parse(data, "f.yaml")
    assert said in err.value.message and hint in err.value.fix


def test_small_yaml_aliases_are_read_as_yaml_means_them() -> None:
    data = cst.load(b"schemaVersion: '2.0.0'\nmetadataTest:\n  volumes: &v ['/a']\n"
                    b"  unmountedVolumes: *v\n", "f.yaml")
    [meta] = cst.parse(data, "f.yaml").tests
    assert isinstance(meta, cst.MetadataTest) and meta.unmounted_volumes == ("/a",)


@pytest.mark.parametrize(("data", "said"), [
    ({"commandTests": [{"name": "a", "command": "x", "expectedOuput": ["y"]}]},
     "unknown key 'expectedOuput' in structure test f.yaml: commandTests[0]"),
    ({"fileTests": []}, "unknown key 'fileTests' in structure test f.yaml"),
    ({"commandTests": [{"command": "x"}]}, "commandTests[0]: name is required"),
    ({"commandTests": [{"name": "a", "command": ["apt-get", "x"]}]},
     "command must be a program's name"),
    ({"commandTests": [{"name": "a", "command": "x", "setup": [[]]}]},
     "setup must be a list of commands"),
    ({"commandTests": [{"name": "a", "command": "x", "envVars": [{"key": "A"}]}]},
     "envVars[0] has no value"),
    ({"commandTests": [{"name": "a", "command": "x", "expectedOutput": ["("]}]},
     "'(' is not a regular expression"),
    ({"fileExistenceTests": [{"name": "a", "path": "/x", "isExecutableBy": "world"}]},
     "isExecutableBy 'world' is not one of any, owner, group, other"),
    ({"fileExistenceTests": [{"name": "a", "path": "/x", "shouldExist": "no"}]},
     "shouldExist must be true or false"),
    ({"fileContentTests": [{"name": "a", "path": "/x"}, {"name": "a", "path": "/y"}]},
     "two tests are named 'a'"),
    ({"containerRunOptions": {"privileged": True}},
     "containerRunOptions.privileged is not supported"),
    ({"metadataTest": {"labels": [{"key": "a", "value": "x", "regex": True}]}},
     "unknown key 'regex'"),
])
def test_a_bad_config_is_one_usage_error_naming_where(data: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError) as err:
        cst.parse({"schemaVersion": "2.0.0", **data}, "f.yaml")
    assert said in err.value.message
    assert err.value.fix


def test_an_empty_metadata_test_is_skipped_as_cst_skips_it() -> None:
    assert cst.parse({"schemaVersion": "2.0.0", "metadataTest": {}}, "f").tests == ()


# -- the platform's names and the image's environment ---------------------------------------

def test_placeholders_are_the_first_name_in_values_and_every_name_in_patterns() -> None:
    assert cst.fill("/usr/lib/{dpkg}/{platform}", ARM) == "/usr/lib/armhf/linux/arm/v7"
    assert cst.search("^{uname}$", "armv7l", ARM)
    assert not cst.search("^{uname}$", "aarch64", ARM)
    assert cst.search(r"\d{2}", "42", ARM)  # other braces are the regex's


@pytest.mark.parametrize(("text", "expanded"), [
    ("echo $PATH", "echo /bin"), ("${PATH}:x", "/bin:x"), ("$UNSET.", "."),
    ("cost $", "cost $"), ("a$.b", "a$.b"), ("${}", ""), ("${PATH", "PATH"),
    ("$$", ""), ("$1x", "x"), ("${-}", ""),
])
def test_the_images_env_is_expanded_as_gos_os_expand_does(text: str, expanded: str) -> None:
    assert cst.go_expand(text, {"PATH": "/bin"}) == expanded


def test_cst_searches_unanchored_without_multiline_as_go_does() -> None:
    assert cst.search("Usage", "apt 2.4\nUsage: apt-get", ARM64)
    assert not cst.search("^Usage", "apt 2.4\nUsage: apt-get", ARM64)


def test_a_pattern_that_never_finishes_is_a_usage_error_not_a_hang(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cst, "MATCH_SECONDS", 0.2)
    with pytest.raises(PatternTimeout):
        cst.search("(a|aa)+$", "a" * 60 + "b", ARM64)


# -- CST's judgement --------------------------------------------------------------------------

@pytest.mark.parametrize(("type_", "mode", "shown"), [
    ("0", 0o644, "-rw-r--r--"), ("5", 0o755, "drwxr-xr-x"), ("5", 0o1777, "dtrwxrwxrwx"),
    ("2", 0o777, "Lrwxrwxrwx"), ("0", 0o4755, "urwxr-xr-x"), ("0", 0o2755, "grwxr-xr-x"),
    ("3", 0o666, "Dcrw-rw-rw-"), ("6", 0o600, "prw-------"),
])
def test_permissions_are_shown_as_gos_file_mode_string(type_: str, mode: int, shown: str) -> None:
    assert rules.go_file_mode(type_, mode) == shown


def test_a_command_test_checks_stdout_stderr_and_the_exit_code_apart() -> None:
    test = one("commandTests", command="app", expectedOutput=["app {dpkg}"],
               excludedError=[".+"], exitCode=0)
    assert rules.judge_command(test, rules.CommandAnswer("app arm64\n", "", 0), ARM64) == []
    errors = rules.judge_command(test, rules.CommandAnswer("app amd64\n", "warn", 2), ARM64)
    assert errors == [
        "Excluded string '.+' found in error 'warn'",
        "Expected string 'app {dpkg}' not found in output 'app amd64\n'",
        "Test 't' exited with incorrect error code. Expected: 0, Actual: 2"]
    setup = rules.CommandAnswer("", "", 1, "`false` exited 1: ")
    assert rules.judge_command(test, setup, ARM64) == ["error in setup: `false` exited 1: "]


# 2,000 to 5,000 characters of any text, as a drawn piece repeated: drawn character by
# character, that long a text cost the suite seconds.
LONG_TEXT = st.builds(lambda piece, n: (piece * (n // len(piece) + 1))[:n],
                      st.text(min_size=1, max_size=64), st.integers(2000, 5000))


@given(LONG_TEXT)
def test_what_a_message_quotes_of_an_output_is_bounded(output: str) -> None:
    test = one("commandTests", command="app", expectedOutput=["^never$"])
    [error] = rules.judge_command(test, rules.CommandAnswer(output, "", 0), ARM64)
    assert len(error) < rules.QUOTE_LIMIT + 100
    assert f"({len(output)} characters)" in error


def test_file_existence_follows_csts_order_of_checks() -> None:
    runner = one("fileExistenceTests", path="/run", permissions="-rwxr-xr-x", uid=0,
                 isExecutableBy="other")
    assert rules.judge_existence(runner, rules.FileAnswer("0", 0o755, 0, 0), "/run") == []
    assert rules.judge_existence(runner, rules.FileAnswer("0", 0o750, 1000, 0), "/run") == [
        "/run has incorrect permissions. Expected: -rwxr-xr-x, Actual: -rwxr-x---",
        "/run has incorrect executable bit. Expected to be executable by other, Actual: "
        "-rwxr-x---",
        "/run has incorrect user ownership. Expected: 0, Actual: 1000"]
    assert rules.judge_existence(runner, rules.FileAnswer(exists=False), "/run") == [
        "Error examining file in container: File /run not found in image"]
    gone = one("fileExistenceTests", path="/x", shouldExist=False, permissions="-rwx------")
    assert rules.judge_existence(gone, rules.FileAnswer(exists=False), "/x") == []
    assert rules.judge_existence(gone, rules.FileAnswer("0", 0o700), "/x") == [
        "File /x should not exist but does"]


def test_file_content_needs_every_expected_and_no_excluded_pattern() -> None:
    test = one("fileContentTests", path="/etc/app", expectedContents=["^{dpkg}"],
               excludedContents=["i386"])
    assert rules.judge_content(test, rules.FileAnswer(content="arm64\n"), "/etc/app", ARM64) == []
    assert rules.judge_content(test, rules.FileAnswer(content="i386\n"), "/etc/app", ARM64) == [
        "Expected string '^{dpkg}' not found in file content string 'i386\n'",
        "Excluded string 'i386' found in file content string 'i386\n'"]
    missing = rules.FileAnswer(exists=False, error="File /etc/app not found in image")
    assert rules.judge_content(test, missing, "/etc/app", ARM64) == [
        "Failed to open /etc/app. Error: File /etc/app not found in image"]


def test_a_file_longer_than_the_cap_is_a_usage_finding_not_a_verdict_on_its_head() -> None:
    """A 70 MB file ending in b: its first 64 MiB alone passed `excludedContents: ['b']` and
    failed `expectedContents: ['b$']`."""
    head = "a" * 1000  # what was read; the rest (and its final b) was not
    for spec in ({"excludedContents": ["b"]}, {"expectedContents": ["b$"]},
                 {"expectedContents": ["a"]}):
        test = one("fileContentTests", path="/big", **spec)
        with pytest.raises(UsageError) as err:
            rules.judge_content(test, rules.FileAnswer(content=head, dropped=6 << 20), "/big",
                                ARM64)
        assert "/big is 6291456 bytes longer than the 64 MiB" in err.value.message
        assert "commandTest" in err.value.fix
    whole = one("fileContentTests", path="/big", excludedContents=["b"])
    assert rules.judge_content(whole, rules.FileAnswer(content=head + "b"), "/big", ARM64) == [
        f"Excluded string 'b' found in file content string '{rules.quote(head + 'b')}'"]


def test_a_command_printing_past_the_cap_is_a_usage_finding_where_patterns_ask() -> None:
    test = one("commandTests", command="yes", excludedOutput=["n"])
    with pytest.raises(UsageError, match="bytes longer than the 64 MiB"):
        rules.judge_command(test, rules.CommandAnswer("y\n" * 10, "", 0, dropped=1), ARM64)
    status_only = one("commandTests", command="yes")  # no pattern: the exit code is whole
    assert rules.judge_command(status_only, rules.CommandAnswer("y\n", "", 0, dropped=1),
                             ARM64) == []


def test_metadata_is_compared_field_by_field_against_the_image_config() -> None:
    [meta] = load("ubuntu_22_04_metadata_test.yaml").tests
    assert isinstance(meta, cst.MetadataTest)
    image = {"Env": ["SOME_KEY=SOME_VAL", "EMPTY_VAR=", r"FOO_BAR=FOO\:BAR=BAZ",
                     "REGEX_VAR=test-2.1.8"],
             "Labels": {"localnet.localdomain.commit_hash":
                        "0123456789abcdef0123456789abcdef01234567",
                        "localnet.my-domain.my-label": "my test label",
                        "label-with-empty-val": ""},
             "ExposedPorts": {"8080/tcp": {}}, "Volumes": None}
    config = rules.ImageConfig.of(image)
    assert config.exposed_ports == ("8080",)  # CST compares the port without its protocol
    assert rules.judge_metadata(meta, config, ARM64) == []
    wrong = rules.ImageConfig.of({**image, "Env": ["SOME_KEY=other", "BAR_FOO=1"],
                                "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/root": {}}})
    assert rules.judge_metadata(meta, wrong, ARM64) == [
        "env var SOME_KEY value other does not match expected value: SOME_VAL",
        "env var EMPTY_VAR not found in image env",
        "env var FOO_BAR not found in image env",
        "env var REGEX_VAR not found in image env",
        "env variable BAR_FOO should not be present in image metadata",
        "Port 80 should not be exposed",
        "Volume /root should not be mounted"]
    cmd = cst.parse({"schemaVersion": "2.0.0", "metadataTest": {
        "cmd": ["/opt/{dpkg}/run"], "entrypoint": [], "workdir": "/srv"}}, "f").tests[0]
    assert isinstance(cmd, cst.MetadataTest)
    assert rules.judge_metadata(cmd, rules.ImageConfig(cmd=("/opt/arm64/run",), workdir="/srv"),
                              ARM64) == []
    assert rules.judge_metadata(cmd, rules.ImageConfig(entrypoint=("sh",)), ARM64) == [
        "Image Cmd [] does not match expected Cmd: ['/opt/{dpkg}/run']",
        "Image entrypoint ['sh'] does not match expected entrypoint: []",
        "Image workdir  does not match config workdir: /srv"]


def test_licenses_fail_on_csts_blacklist_and_on_a_package_without_one() -> None:
    assert rules.judge_license({"/a": "GPL-2"}, {"libc6": "LGPL", "libgnutls30": "AGPL"}) == []
    assert rules.judge_license({"/a": "the wtfpl"}, {"x": None, "y": "Affero AGPL-3"}) == [
        "Error reading license file for x: File /usr/share/doc/x/copyright not found in image",
        "Invalid license for /usr/share/doc/y/copyright, license contains AGPL",
        "Invalid license for /a, license contains WTFPL"]


# -- the verdict ------------------------------------------------------------------------------

def test_a_failed_structure_test_fails_the_platform_in_csts_words() -> None:
    """The engine side hands over what the test saw; the judging step says CST's words,
    and records the outcome as the reports keep it."""
    source = "cst:app.yaml::arch"
    wants = cst.FileContentTest("arch", "/etc/arch", tuple(f"want{i}" for i in range(25)))
    passed = obs.answered(source, rules.Seen(replace(wants, expected=("arm64",)),
                                             rules.FileAnswer(content="arm64"), "/etc/arch",
                                             "app.yaml"))
    failed = obs.answered(source, rules.Seen(wants, rules.FileAnswer(content="x"), "/etc/arch",
                                             "app.yaml"))
    assert judge(ARM64, [passed], "amd64", QEMU).verdict == Verdict.PASS
    verdict = judge(ARM64, [failed], "amd64", QEMU)
    assert verdict.verdict == Verdict.FAIL
    [finding] = verdict.findings
    assert finding.kind is Kind.MISMATCH and finding.source == source
    assert finding.message.startswith("Expected string 'want0' not found in file content "
                                      "string 'x'; Expected string 'want1' not found")
    assert finding.message.endswith("'want19' not found in file content string 'x'; and 5 more")
    assert "app.yaml" in finding.fix
    assert (passed.value, failed.value, failed.detail["error_count"]) == ("passed", "failed", 25)
    assert failed.to_dict()["raw"].startswith("Expected string 'want0'")


def test_a_structure_tests_findings_come_from_its_answer_never_from_recorded_words() -> None:
    """Known bad (issue 37): CST's errors flattened into detail["errors"] were turned back
    into the finding. A record read back, with no answer, is judged by nothing: a harness
    bug, never the pass or fail its words claim."""
    source = "cst:app.yaml::arch"
    for words in ([], ["Expected string 'arm64' not found"]):
        [finding] = judge(ARM64, [obs.test_outcome(source, "file-content", words)], "amd64",
                          QEMU).findings
        assert finding.kind is Kind.INTERNAL and finding.message == f"{source}: no answer to " \
            "judge"


def test_a_structure_test_whose_file_was_cut_is_bad_input_named_in_its_config() -> None:
    """Judged where the engine side used to judge it: the same usage error, the same fix."""
    test = cst.FileContentTest("arch", "/etc/arch", ("arm64",))
    seen = obs.answered("cst:app.yaml::arch", rules.Seen(
        test, rules.FileAnswer(content="arm64", dropped=10), "/etc/arch", "app.yaml"))
    [finding] = judge(ARM64, [seen], "amd64", QEMU).findings
    assert finding.kind is Kind.USAGE and finding.fix.endswith(", in app.yaml")
    assert seen.kind is Kind.USAGE and seen.error == finding.message


def test_a_structure_test_the_machine_could_not_run_is_an_error_not_a_fail() -> None:
    seen = obs.failed("cst:app.yaml::t", "`app` did not answer within 60 s", None, "raise it")
    assert judge(ARM64, [seen], "amd64", QEMU).verdict == Verdict.ERROR


def test_go_mode_bits_match_the_stat_module() -> None:
    assert rules.go_file_mode("0", stat.S_IRUSR | stat.S_IXOTH) == "-r-------x"
