"""Configuration: pyproject's [tool.harness], options over it, and bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.failures.errors import UsageError
from harness.core.platforms.table import Platform
from harness.core.settings import options
from harness.machine.config import HarnessConfig, dockerfile_base, load, parse_build_args


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile.web").write_text("ARG BASE_IMAGE=debian:trixie\nFROM x\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\nplatforms = ["linux/arm64"]\ndockerfile = "docker/Dockerfile.web"\n'
        'quirk-policy = "fail"\nrequire = ["rustc"]\n')
    return tmp_path


def test_pyproject_settings_apply(project: Path) -> None:
    cfg = load(project)
    cfg.validate()
    assert [p.name for p in cfg.platforms] == ["linux/arm64"]
    assert cfg.dockerfile == project / "docker" / "Dockerfile.web"
    assert cfg.context == project / "docker"
    assert cfg.quirk_policy == "fail" and cfg.require == {"rustc"}
    assert cfg.image == "harness/web"
    assert cfg.base_image == "debian:trixie"
    assert re.fullmatch(r"harness/web:linux-arm64-[0-9a-f]{8}", cfg.tag_for(cfg.platforms[0]))


def test_two_projects_never_share_a_default_tag(tmp_path: Path) -> None:
    """Every `Dockerfile` was tagged harness/image:PLATFORM, so two projects on one engine
    moved each other's tags. The default is the project's and Dockerfile's own; a name given
    with --image is kept as given."""
    tags = set()
    for where in ("one", "two", "two/sub"):
        (tmp_path / where).mkdir(parents=True)
        (tmp_path / where / "Dockerfile").write_text("FROM debian\n")
        cfg = load(tmp_path / where, platforms=["linux/amd64"])
        tags.add(cfg.tag_for(cfg.platforms[0]))
        assert cfg.tag_for(cfg.platforms[0]) == load(tmp_path / where).tag_for(cfg.platforms[0])
    other = load(tmp_path / "two", dockerfile=str(tmp_path / "two/sub/Dockerfile"),
                 platforms=["linux/amd64"])
    tags.add(other.tag_for(other.platforms[0]))
    assert len(tags) == 4 and all(t.startswith("harness/image:linux-amd64-") for t in tags)
    named = load(tmp_path / "one", image="team/app", platforms=["linux/amd64"])
    assert named.tag_for(named.platforms[0]) == "team/app:linux-amd64"


def test_options_override_pyproject(project: Path) -> None:
    cfg = load(project, platforms=["linux/386", "linux/amd64"], quirk_policy="warn",
               build_args=["BASE_IMAGE=debian:bookworm", "X=1=2"])
    assert [p.name for p in cfg.platforms] == ["linux/386", "linux/amd64"]
    assert cfg.quirk_policy == "warn"
    assert cfg.build_args == {"BASE_IMAGE": "debian:bookworm", "X": "1=2"}
    assert cfg.base_image == "debian:bookworm"


def test_build_args_and_labels_on_the_command_line_win_key_by_key(project: Path) -> None:
    """`--build-arg WRONG_ON=arm64` must not drop the project's BASE_IMAGE (which then fell
    back to the Dockerfile's default base, bootstrapped from Debian's archive under QEMU)."""
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('build-args = ["BASE_IMAGE=harness-tiny:bookworm", "WRONG_ON=none"]\n'
                 'labels = ["team=core"]\n')
    cfg = load(project, build_args=["WRONG_ON=arm64", "EXTRA=1"], labels=["tier=2"])
    assert cfg.build_args == {"BASE_IMAGE": "harness-tiny:bookworm", "WRONG_ON": "arm64",
                              "EXTRA": "1"}
    assert cfg.base_image == "harness-tiny:bookworm"
    assert cfg.labels == {"team": "core", "tier": "2"}
    assert load(project).build_args == {"BASE_IMAGE": "harness-tiny:bookworm",
                                        "WRONG_ON": "none"}


def test_unknown_platform_is_a_usage_error_naming_the_known_ones(project: Path) -> None:
    with pytest.raises(UsageError) as info:
        load(project, platforms=["linux/sparc"])
    assert "linux/arm/v7" in str(info.value) and info.value.exit_status == 4


def test_missing_dockerfile_names_the_fix(project: Path) -> None:
    cfg = load(project, dockerfile=str(project / "nope" / "Dockerfile"))
    with pytest.raises(UsageError, match=r"no Dockerfile at .*nope") as info:
        cfg.validate()
    assert "--dockerfile" in info.value.fix


def test_missing_context(project: Path) -> None:
    with pytest.raises(UsageError, match="context"):
        load(project, context=str(project / "gone")).validate()


def test_malformed_build_arg() -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_build_args(["NOEQUALS"])


def test_base_image_default_when_the_dockerfile_declares_none(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert dockerfile_base(tmp_path / "Dockerfile") == "debian:bookworm-slim"


def test_the_projects_own_pyproject_builds_the_rust_image() -> None:
    root = Path(__file__).resolve().parents[2]
    cfg = load(root)
    cfg.validate()
    assert [p.name for p in cfg.platforms] == ["linux/amd64", "linux/386", "linux/arm64",
                                               "linux/arm/v7"]
    assert cfg.dockerfile.name == "Dockerfile.rust" and cfg.base_image == "debian:bookworm-slim"


def test_another_dockerfile_brings_its_own_context(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.harness]\ncontext = "docker"\n')
    (project / "other").mkdir()
    (project / "other" / "Dockerfile").write_text("FROM scratch\n")
    cfg = load(project, dockerfile=str(project / "other" / "Dockerfile"))
    assert cfg.context == project / "other"
    assert load(project, dockerfile=str(project / "other" / "Dockerfile"),
                context=str(project / "docker")).context == project / "docker"


def write_pyproject(tmp_path: Path, body: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "pyproject.toml").write_text(f'[tool.harness]\ndockerfile = "Dockerfile"\n{body}')
    return tmp_path


@pytest.mark.parametrize(("body", "says"), [
    ('require = "rustc"\n', "require in the pyproject.toml must be a list of strings"),
    ('platforms = "linux/amd64"\n', "platforms in the pyproject.toml must be a list"),
    ('platfroms = ["linux/amd64"]\n', "did you mean 'platforms'?"),
    ('probe-timeout = "abc"\n', "probe-timeout in the pyproject.toml must be a number"),
    ('probe-timeout = 0\n', "must be a number of seconds above 0"),
    ('probe-timeout = true\n', "probe-timeout in the pyproject.toml must be a number"),
    ('probe-timeout = nan\n', "must be a number of seconds above 0"),
    ('quirk-policy = "never"\n', "must be one of warn, fail"),
    ('no-cache = "yes"\n', "must be true or false"),
    ('require = ["nonsense"]\n', "unknown 'nonsense'"),
    ("platforms = [\n", "fix the TOML syntax"),
])
def test_pyproject_mistakes_are_one_line_usage_errors(tmp_path: Path, body: str,
                                                      says: str) -> None:
    """A typo or a wrong type must never weaken a check silently (a string `require` used to
    be split into letters, so an image without rustc passed)."""
    with pytest.raises(UsageError) as info:
        load(write_pyproject(tmp_path, body))
    assert says in str(info.value) and info.value.exit_status == 4
    assert "\n" not in info.value.message


@pytest.mark.parametrize(("given", "says"), [
    ({"require": ["nonsense"]}, "--require: unknown 'nonsense'"),
    ({"probe_timeout": "-1"}, "--probe-timeout in the command line must be a number"),
    ({"probe_timeout": "0"}, "above 0"),
    ({"engines": ["tcp://127.0.0.1:2375"]}, "is not of the form PLATFORM=URL"),
    ({"report_dir": ""}, "--report-dir in the command line must be a non-empty string"),
])
def test_option_mistakes_are_usage_errors(tmp_path: Path, given: dict[str, object],
                                          says: str) -> None:
    with pytest.raises(UsageError) as info:
        load(write_pyproject(tmp_path, ""), **given)
    assert says in str(info.value)


def test_an_empty_require_clears_the_list(tmp_path: Path) -> None:
    cfg = load(write_pyproject(tmp_path, 'require = ["rustc"]\n'), require=[""])
    assert cfg.require == frozenset()


def test_every_option_serves_pytest_and_argparse_from_one_table() -> None:
    from harness.core.settings import options

    parser = options.argument_parser("preflight")
    args, _ = parser.parse_known_args(["--platform", "linux/arm64", "--builder", "classic"])
    assert options.given(args, "preflight") == {"platforms": ["linux/arm64"],
                                                "builder": "classic"}
    # A word other than auto, buildx and classic is a buildx builder's name (`docker buildx
    # ls`), looked up before any work; what cannot be a name is refused as the value is read.
    args, _ = parser.parse_known_args(["--builder", "ci-builder"])
    assert options.given(args, "preflight")["builder"] == "ci-builder"
    with pytest.raises(UsageError):
        parser.parse_known_args(["--builder"])
    flags = {o.flag for o in options.OPTIONS}
    assert {"--platform", "--require", "--probe-timeout", "--registry", "--tag"} <= flags


@pytest.mark.parametrize(("setup", "says"), [
    (lambda d: (d / "Dockerfile").write_text("# nothing\n"), "has no FROM instruction"),
    (lambda d: (d / "taken").write_text("a file"), "is a file"),
])
def test_bad_inputs_found_before_any_work(tmp_path: Path, setup: object, says: str) -> None:
    project = write_pyproject(tmp_path, 'report-dir = "taken/reports"\n')
    setup(project)  # type: ignore[operator]
    with pytest.raises(UsageError, match=says):
        load(project).validate()


@pytest.mark.parametrize("name", ["Bad Name", "harness/rust:tag", "UPPER/case", "a//b"])
def test_an_invalid_image_name_is_bad_input(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="is not an image name"):
        load(write_pyproject(tmp_path, ""), image=name).validate()


@pytest.mark.parametrize("name", ["harness/rust", "localhost:5000/a/b-c", "x"])
def test_valid_image_names_pass(tmp_path: Path, name: str) -> None:
    load(write_pyproject(tmp_path, ""), image=name).validate()


def test_declared_checks_and_check_dirs_come_from_pyproject(project: Path) -> None:
    (project / "checks").mkdir()
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('check-dirs = ["checks"]\n\n[tool.harness.checks.version]\n'
                 'command = "app --version"\nexpect = "^app 1\\\\.2 {goarch}$"\n')
    cfg = load(project)
    cfg.validate()
    [check] = cfg.checks
    assert (check.name, check.command, check.expect) == (
        "version", ("sh", "-c", "app --version"), "^app 1\\.2 {goarch}$")
    assert cfg.check_dirs == (project / "checks",)
    with pytest.raises(UsageError, match=r"--checks .*/elsewhere: no such directory"):
        load(project, check_dirs=["elsewhere"]).validate()


def test_a_bad_declared_check_stops_the_load(project: Path) -> None:
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.harness.checks.version]\ncommand = "app"\nexpect = "{arch}"\n')
    with pytest.raises(UsageError, match=r"\[tool.harness.checks.version\]: unknown placeholder"):
        load(project)


def test_engines_per_platform_come_from_options_or_pyproject(project: Path) -> None:
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.harness.engines]\n"linux/arm64" = "tcp://arm-box:2376"\n')
    assert load(project).engines == {"linux/arm64": "tcp://arm-box:2376"}
    cfg = load(project, engines=["linux/i386=unix:///run/two.sock"])
    assert cfg.engines == {"linux/386": "unix:///run/two.sock",  # canonical names
                           "linux/arm64": "tcp://arm-box:2376"}  # platform by platform
    with pytest.raises(UsageError, match="not an engine URL") as err:
        load(project, engines=["linux/386=http://ann:pw@host:2375"])
    assert "pw" not in str(err.value)
    with pytest.raises(UsageError, match="unknown platform"):
        load(project, engines=["linux/sparc=tcp://h:2375"])
    cfg = load(project, engines=["linux/arm64=ssh://ci@arm-box:2222"])
    assert cfg.engines == {"linux/arm64": "ssh://ci@arm-box:2222"}
    with pytest.raises(UsageError, match=r"not an ssh:// engine URL") as err:
        load(project, engines=["linux/arm64=ssh://ci:pw@arm-box"])
    assert "use a key" in err.value.fix and "pw" not in str(err.value)


def test_a_malformed_engine_is_answered_about_engine_not_build_arg(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load(write_pyproject(tmp_path, ""), engines=["tcp://127.0.0.1:2375"])
    assert info.value.fix == "write --engine PLATFORM=URL" and "build-arg" not in str(info.value)


def test_a_default_report_directory_linking_out_of_the_project_is_refused(
        tmp_path: Path) -> None:
    """As root, a planted `reports -> /etc` must not make the harness write there; named
    explicitly, the same link is the user's choice."""
    project = write_pyproject(tmp_path / "p", "")
    (tmp_path / "elsewhere").mkdir()
    (project / "reports").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="outside the project"):
        load(project).validate()
    load(project, report_dir=str(project / "reports")).validate()
    (project / "reports").unlink()
    (project / "inside").mkdir()
    (project / "reports").symlink_to(project / "inside")
    load(project).validate()  # a link within the project is fine


def test_a_check_with_a_syntax_error_is_bad_input_before_any_work(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "")
    checks = project / "checks"
    checks.mkdir()
    (checks / "test_app.py").write_text("def test_x(image):\n    assert image.run('x'\n")
    (checks / "helper.py").write_text("this is not collected (\n")
    with pytest.raises(UsageError) as info:
        load(project, check_dirs=[str(checks)]).validate()
    assert "test_app.py:" in info.value.message and info.value.exit_status == 4
    (checks / "test_app.py").write_text("def test_x():\n    pass\n")
    load(project, check_dirs=[str(checks)]).validate()


def test_secrets_are_checked_where_they_come_from_before_any_build(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "token.txt").write_text("x")
    monkeypatch.setenv("HARNESS_TEST_SECRET", "x")
    cfg = load(project, secrets=["id=a,src=token.txt", "id=b,env=HARNESS_TEST_SECRET"],
               target="base")
    assert [s.flag() for s in cfg.secrets] == [f"id=a,src={project / 'token.txt'}",
                                              "id=b,env=HARNESS_TEST_SECRET"]
    assert cfg.target == "base"
    monkeypatch.delenv("HARNESS_TEST_SECRET")
    for spec, says in (("id=a,src=missing.txt", "no file"),
                       ("id=b,env=HARNESS_TEST_SECRET", "HARNESS_TEST_SECRET is not set")):
        with pytest.raises(UsageError, match=says):
            load(project, secrets=[spec])
    with pytest.raises(UsageError, match="needs BuildKit"):
        load(project, secrets=["id=a,src=token.txt"], builder="classic")


def test_named_contexts_are_checked_and_made_absolute_before_any_build(project: Path) -> None:
    (project / "files").mkdir()
    (project / "layout").mkdir()
    cfg = load(project, build_contexts=["files=files", "base=docker-image://alpine:3.19",
                                        "lay=oci-layout://layout:v1"])
    assert {n: (c.kind, c.value) for n, c in cfg.build_contexts.items()} == {
        "files": ("local", str(project / "files")),
        "base": ("image", "docker-image://alpine:3.19"),
        "lay": ("layout", f"oci-layout://{project / 'layout'}:v1")}
    # [tool.harness] build-contexts = {...}, read as the flag is
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + 'build-contexts = { files = "files" }\n')
    assert load(project).build_contexts["files"].value == str(project / "files")
    for given, says in ((["files=missing"], "no directory"),
                        (["lay=oci-layout://missing"], "no directory"),
                        (["Files=files"], "not a context name"),
                        (["x=docker-imag://a"], "is not a build context")):
        with pytest.raises(UsageError, match=says):
            load(project, build_contexts=given)
    with pytest.raises(UsageError, match="--build-context needs BuildKit"):
        load(project, build_contexts=["files=files"], builder="classic")


def test_ssh_keys_and_agents_are_checked_before_any_build(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "key").write_text("k")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/agent.sock")
    cfg = load(project, ssh=["deploy=key", "default"])
    assert [s.flag() for s in cfg.ssh] == [f"deploy={project / 'key'}", "default"]
    monkeypatch.delenv("SSH_AUTH_SOCK")
    for spec, says in (("deploy=missing", "no key or socket"),
                       ("default", "SSH_AUTH_SOCK is not set"),
                       ("a b", "is not of the form")):
        with pytest.raises(UsageError, match=says):
            load(project, ssh=[spec])
    with pytest.raises(UsageError, match="--ssh needs BuildKit"):
        load(project, ssh=["deploy=key"], builder="classic")


def test_a_path_too_long_for_the_system_is_one_bounded_line_not_a_crash(project: Path) -> None:
    """Path.is_dir() raises ENAMETOOLONG (it answers False only for a path that is not
    there): a context, key or secret file named so was exit 70, a traceback."""
    long = "x" * 300
    for given, says in (({"build_contexts": [f"files={long}"]}, "no directory"),
                        ({"ssh": [f"deploy={long}"]}, "no key or socket"),
                        ({"secrets": [f"id=a,src={long}"]}, "no file")):
        with pytest.raises(UsageError, match=says) as caught:
            load(project, **given)
        assert len(caught.value.message) < 400
    with pytest.raises(UsageError, match="no Dockerfile"):
        load(project, dockerfile=long).validate()


def test_a_cache_is_checked_and_needs_buildkit(project: Path) -> None:
    assert load(project, cache="127.0.0.1:5000/cache").cache == "127.0.0.1:5000/cache"
    with pytest.raises(UsageError, match="need BuildKit"):
        load(project, cache="127.0.0.1:5000/cache", builder="classic")
    with pytest.raises(UsageError, match="--cache"):
        load(project, cache="127.0.0.1:5000/cache:v1")


# -- hostile files: each refused (exit 4, one short line) in bounded time and memory --------

_LOAD = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # a gigabyte: a leak fails fast
from harness.core.failures.errors import UsageError
from harness.machine.config import load
try:
    load(Path(sys.argv[1]), **json.loads(sys.argv[2])).validate()
except UsageError as exc:
    print(exc.message)
    print(exc.fix)
    sys.exit(exc.exit_status)
"""


def load_elsewhere(project: Path, **options: object) -> subprocess.CompletedProcess[str]:
    """``load(project, **options).validate()`` in a process of its own, bounded in time and
    memory: a hang or a runaway read fails the test instead of the suite."""
    return subprocess.run([sys.executable, "-c", _LOAD, str(project), json.dumps(options)],
                          capture_output=True, text=True, timeout=30)


def refused(done: subprocess.CompletedProcess[str], said: str) -> None:
    assert done.returncode == 4, done.stderr[-2000:]
    message = done.stdout.splitlines()[0]
    assert said in message and len(message) < 400


def test_a_fifo_as_structure_test_is_refused_without_being_read(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "")
    os.mkfifo(project / "cst.yaml")  # no writer: opening it to read would block for ever
    refused(load_elsewhere(project, structure_tests=["cst.yaml"]), "is a FIFO, not a regular file")


def test_dev_zero_as_structure_test_is_refused_before_reading_it(tmp_path: Path) -> None:
    refused(load_elsewhere(write_pyproject(tmp_path, ""), structure_tests=["/dev/zero"]),
            "is a character device, not a regular file")


def test_a_structure_test_too_big_to_be_a_config_is_refused(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "")
    with (project / "big.yaml").open("wb") as fh:  # sparse: costs no disk
        fh.truncate(200 << 20)
    refused(load_elsewhere(project, structure_tests=["big.yaml"]), "bigger than")


def test_a_yaml_alias_bomb_is_refused_in_one_short_line(tmp_path: Path) -> None:
    """437 bytes that expand to 9^9 strings: the harness echoed it whole (802 MB, 3.2 GB)."""
    project = write_pyproject(tmp_path, "")
    levels = ["&a0 [lol]"] + [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (project / "bomb.yaml").write_text(
        "schemaVersion: '2.0.0'\nfileExistenceTests:\n- name: x\n  path: /x\n"
        f"  shouldExist: [{', '.join(levels)}]\n")
    done = load_elsewhere(project, structure_tests=["bomb.yaml"])
    refused(done, "aliases")
    assert len(done.stdout) < 1000


def test_yaml_nested_past_the_depth_bound_is_refused(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "")
    (project / "deep.yaml").write_text("commandTests: " + "[" * 100_000 + "]" * 100_000)
    refused(load_elsewhere(project, structure_tests=["deep.yaml"]), "nested deeper than")
    (project / "deep.json").write_text('{"commandTests": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(load_elsewhere(project, structure_tests=["deep.json"]), "nested deeper than")


def test_a_value_of_a_config_is_never_echoed_unbounded(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "")
    (project / "long.yaml").write_text(
        "schemaVersion: '2.0.0'\nfileExistenceTests:\n- name: x\n  path: /x\n"
        f"  shouldExist: {['y' * 1000] * 500}\n")
    done = load_elsewhere(project, structure_tests=["long.yaml"])
    refused(done, "shouldExist must be true or false")


def test_a_fifo_in_a_checks_directory_is_refused_without_being_read(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "")
    checks = project / "checks"
    checks.mkdir()
    (checks / "test_ok.py").write_text("def test_x():\n    pass\n")
    os.mkfifo(checks / "test_fifo.py")
    refused(load_elsewhere(project, check_dirs=[str(checks)]), "is a FIFO, not a regular file")
    (checks / "test_fifo.py").unlink()
    os.mkfifo(checks / "helper.py")  # imported by a check, pytest would block on it too
    refused(load_elsewhere(project, check_dirs=[str(checks)]), "is a FIFO, not a regular file")


@pytest.mark.parametrize(("text", "said"), [
    ("[" * 200_000 + "]" * 200_000, "the structure test cst.json is nested deeper than 64"),
    ('{"schemaVersion": NaN}', "the structure test cst.json is not valid JSON")])
def test_a_structure_test_config_nested_too_deep_is_one_line_of_bad_input(
        tmp_path: Path, text: str, said: str) -> None:
    """A 200k-deep JSON config was RecursionError: exit 70."""
    from harness.machine.config import read_structure

    path = tmp_path / "cst.json"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        read_structure(path, "cst.json")
    assert said in info.value.message
    assert "\n" not in info.value.message


# -- each option declared once (harness.core.settings.options): the dataclass and the reader follow
# it --

RUN_OPTIONS = [o for o in options.OPTIONS if o.config]
# The fields that are no one option: made from several, or from sub-tables of [tool.harness].
MADE = {"root", "report_dir_given", "image_given", "checks", "overrides",
        "bake_target", "bake_notes", "bake_tags",  # made from --bake's target, as buildx reads it
        "bake_targets"}  # each target's own configuration


def _plain(value: object) -> object:
    """A value as a declaration writes it: paths as text, collections (KEY=VALUE ones too) as
    sorted lists, platforms by name; so a field's default can be set beside the declared one."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Platform):
        return value.name
    if isinstance(value, dict):
        value = [f"{k}={v}" for k, v in value.items()]  # as the command line writes them
    if isinstance(value, (list, tuple, frozenset, set)):
        return sorted(str(_plain(v)) for v in value)
    return value


def test_every_field_of_the_configuration_is_an_option_or_made_from_them() -> None:
    fields = {f.name for f in dataclasses.fields(HarnessConfig)}
    assert sorted(o.attr for o in RUN_OPTIONS) == sorted(fields - MADE)


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.key)
def test_every_fields_default_is_the_declared_one(option: options.Option) -> None:
    """The default is written once, in the table: HarnessConfig's is taken from it (the image's
    was "harness/rust" in the dataclass and None in the table)."""
    [found] = [f for f in dataclasses.fields(HarnessConfig) if f.name == option.attr]
    default = found.default if found.default_factory is dataclasses.MISSING \
        else found.default_factory()
    assert default is not dataclasses.MISSING, f"{option.attr} has no default"
    assert _plain(default) == _plain(option.default)


# A value of each kind, as pyproject.toml writes it; by key where the kind's would not load.
KIND_SAMPLES: dict[str, object] = {
    "list": ["a", "b"], "lines": ["a"], "args": {"KEY": "VALUE"}, "bool": True, "float": 5.0,
    "int": 3, "path": "elsewhere", "str": "text"}
SAMPLES: dict[str, object] = {
    "platforms": ["linux/arm64"], "require": ["rustc"], "image": "harness/other",
    "engines": {"linux/arm64": "tcp://arm-box:2376"}, "cache": "localhost:5000/cache",
    "secrets": ["id=token,src=token.txt"], "structure_tests": ["cst.yaml"],
    "bake": ["docker-bake.hcl"], "build_contexts": {"base": "docker-image://alpine:3.19"},
    "ssh": ["deploy=token.txt"]}
# `--bake` is read by the docker CLI's buildx plugin (no engine needed): where neither is
# installed, its case cannot run.
NEEDS_BUILDX = pytest.mark.skipif(shutil.which("docker") is None, reason="--bake runs "
                                  "`docker buildx bake --print`")


def _sample(option: options.Option) -> object:
    if option.key in SAMPLES:
        return SAMPLES[option.key]
    if option.choices:
        return next(c for c in option.choices if c != option.default)
    return KIND_SAMPLES[option.kind]


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()) \
            + "}"
    return json.dumps(value)


def _command_line(value: object) -> object:
    """The same value as argparse hands it over: text, KEY=VALUE items."""
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    return value if isinstance(value, (bool, list)) else str(value)


@pytest.mark.parametrize("option", [pytest.param(o, marks=NEEDS_BUILDX) if o.key == "bake"
                                    else o for o in RUN_OPTIONS if o.in_pyproject],
                         ids=lambda o: o.key)
def test_every_pyproject_key_is_read_into_its_field_as_its_flag_is(
        tmp_path: Path, option: options.Option) -> None:
    """Generated over the table: a new option is read from [tool.harness] and from its flag
    into the same field, with no code of its own."""
    (tmp_path / "token.txt").write_text("secret")
    (tmp_path / "cst.yaml").write_text(
        "schemaVersion: '2.0.0'\nfileExistenceTests:\n- name: x\n  path: /x\n")
    (tmp_path / "docker-bake.hcl").write_text('target "default" {}\n')
    pyproject = tmp_path / "pyproject.toml"
    sample = _sample(option)
    pyproject.write_text("[tool.harness]\n")
    default = getattr(load(tmp_path), option.attr)
    from_flag = getattr(load(tmp_path, **{option.key: _command_line(sample)}), option.attr)
    pyproject.write_text(f"[tool.harness]\n{option.toml_key} = {_toml(sample)}\n")
    from_pyproject = getattr(load(tmp_path), option.attr)
    assert from_pyproject == from_flag != default


def test_a_pyproject_nested_past_what_tomllib_can_read_is_one_line_naming_it(
        tmp_path: Path) -> None:
    """100k nested inline arrays made tomllib raise RecursionError: exit 70, a traceback."""
    project = write_pyproject(tmp_path, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = load_elsewhere(project)
    refused(done, "pyproject.toml")
    assert "nested too deep" in done.stdout and "Traceback" not in done.stderr
    assert len(done.stdout) < 1000


def test_a_pyproject_that_is_no_regular_file_is_refused_not_taken_for_none(
        tmp_path: Path) -> None:
    """A FIFO in pyproject.toml's place was no file: its settings were silently the defaults
    (a `require` dropped); opening it would block for ever."""
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    os.mkfifo(tmp_path / "pyproject.toml")
    refused(load_elsewhere(tmp_path), "pyproject.toml is a FIFO, not a regular file")


def test_a_ci_job_of_one_platform_names_every_platform_the_index_must_hold(
        project: Path) -> None:
    """check.yml's jobs check one platform each of the same index: its other platforms are
    expected there, not "in the index but not expected"; one outside the list is bad input."""
    cfg = load(project, platforms=["linux/arm64"],
               index_platforms=["linux/amd64,linux/arm64"])
    assert [p.name for p in cfg.index_platforms] == ["linux/amd64", "linux/arm64"]
    assert [p.name for p in cfg.platforms] == ["linux/arm64"]
    assert load(project).index_platforms == []  # default: --platform's
    with pytest.raises(UsageError, match="linux/386 is not one of --index-platforms"):
        load(project, platforms=["linux/386"], index_platforms=["linux/amd64,linux/arm64"])
    with pytest.raises(UsageError, match="linux/sparc"):
        load(project, index_platforms=["linux/sparc"])


@pytest.mark.parametrize("value", ["no such!", "-x", "a/b", "ci\x1b[2J"])
def test_a_builder_that_cannot_be_a_buildx_name_is_refused(project: Path, value: str) -> None:
    with pytest.raises(UsageError, match="docker buildx ls") as raised:
        load(project, builder=value).validate()
    assert "\x1b" not in str(raised.value)


@pytest.mark.parametrize("value", ["auto", "buildx", "classic", "ci-builder", "far.2"])
def test_the_three_builder_words_and_buildx_names_are_taken(project: Path, value: str) -> None:
    cfg = load(project, builder=value)
    cfg.validate()
    assert cfg.builder == value
