"""container-structure-test answers, and CST's judgement of them: what the engine side saw of
one test (a command's stdout, stderr and exit status, a file's tar header or content, the image
config, the license files), judged by the rules of CST's own source, ``pkg/types/v2/*.go`` of
GoogleContainerTools/container-structure-test (cited per function), into CST's own words. The
tests themselves are read in :mod:`harness.core.declared.structure`. Pure: no I/O.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.core.declared import structure
from harness.core.declared.structure import (
    DEBIAN_DOCS,
    EXECUTABLE_BY,
    LICENSE_BLACKLIST,
    LICENSE_WHITELIST,
    NO_OWNER,
    CommandTest,
    EnvVar,
    FileContentTest,
    FileExistenceTest,
    MetadataTest,
    environment,
    fill,
    search,
)
from harness.core.declared.usercheck import whole
from harness.core.platforms.table import Platform


@dataclass(frozen=True)
class CommandAnswer:
    stdout: str
    stderr: str
    status: int
    setup_error: str = ""  # a setup command that failed (structure.go: "error in setup")
    dropped: int = 0  # bytes of stdout and stderr past OUTPUT_CAP, drained and not kept


@dataclass(frozen=True)
class FileAnswer:
    """A path's tar header as the engine's archive gave it (None fields: no such file)."""

    type: str = ""  # tarfile's type: "0" file, "5" directory, "2" symlink, "1" hard link ...
    mode: int = 0  # permission bits with setuid, setgid and sticky
    uid: int = 0
    gid: int = 0
    exists: bool = True
    content: str | None = None  # for content tests: the file's text (after symlinks)
    error: str = ""  # why there is no content (a directory, not found)
    dropped: int = 0  # bytes of the file past OUTPUT_CAP, never read


def go_file_mode(type_: str, mode: int) -> str:
    """Go's ``FileMode.String()`` of a tar header's ``FileInfo().Mode()``: what CST compares
    ``permissions`` with (``-rw-r--r--``, ``drwxr-xr-x``, ``Lrwxrwxrwx``, ``dtrwxrwxrwt``)."""
    letters = ""
    # Go's order "dalTLDpSugct?": directory, symlink, device, pipe, setuid, setgid, char, sticky
    if type_ == "5":
        letters += "d"
    if type_ == "2":
        letters += "L"
    if type_ in ("3", "4"):
        letters += "D"
    if type_ == "6":
        letters += "p"
    if mode & stat.S_ISUID:
        letters += "u"
    if mode & stat.S_ISGID:
        letters += "g"
    if type_ == "3":
        letters += "c"
    if mode & stat.S_ISVTX:
        letters += "t"
    rwx = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return (letters or "-") + rwx


QUOTE_LIMIT = 300  # characters of an output or file CST's messages quote, here


def quote(text: str) -> str:
    """An output as CST's messages quote it, bounded (the whole is in the probe log)."""
    return text if len(text) <= QUOTE_LIMIT else \
        f"{text[:QUOTE_LIMIT]}... ({len(text)} characters)"


def _patterns(expected: tuple[str, ...], excluded: tuple[str, ...], text: str, what: str,
              platform: Platform) -> list[str]:
    """CST's messages for expected patterns not found in ``text`` and excluded ones found."""
    shown = quote(text)
    return [f"Expected string '{p}' not found in {what} '{shown}'" for p in expected
            if not search(p, text, platform)] + \
        [f"Excluded string '{p}' found in {what} '{shown}'" for p in excluded
         if search(p, text, platform)]


def judge_command(test: CommandTest, answer: CommandAnswer, platform: Platform) -> list[str]:
    """command.go's CheckOutput: every expected pattern found, no excluded one, the exit code.
    Raises usercheck.Truncated where the output had more than OUTPUT_CAP to match."""
    if answer.setup_error:
        return [f"error in setup: {answer.setup_error}"]
    whole(answer.dropped, test.expected_output + test.excluded_output + test.expected_error
           + test.excluded_error, f"the output of {structure.echo(test.name)}",
           "make the command print less (| grep, | tail), in its commandTest")
    errors = _patterns(test.expected_error, test.excluded_error, answer.stderr, "error",
                       platform)
    errors += _patterns(test.expected_output, test.excluded_output, answer.stdout, "output",
                        platform)
    if test.exit_code != answer.status:
        errors.append(f"Test '{test.name}' exited with incorrect error code. Expected: "
                      f"{test.exit_code}, Actual: {answer.status}")
    return errors


def judge_existence(test: FileExistenceTest, answer: FileAnswer, path: str) -> list[str]:
    """file_existence.go's Run: existence, then permissions, executable bit and owner."""
    if not answer.exists:
        if test.should_exist:
            return [f"Error examining file in container: File {path} not found in image"]
        return []
    if not test.should_exist:
        return [f"File {path} should not exist but does"]
    errors = []
    shown = go_file_mode(answer.type, answer.mode)
    if test.permissions and shown != test.permissions:
        errors.append(f"{path} has incorrect permissions. Expected: {test.permissions}, "
                      f"Actual: {shown}")
    if test.executable_by and not answer.mode & EXECUTABLE_BY[test.executable_by]:
        errors.append(f"{path} has incorrect executable bit. Expected to be executable by "
                      f"{test.executable_by}, Actual: {shown}")
    if test.uid != NO_OWNER and answer.uid != test.uid:
        errors.append(f"{path} has incorrect user ownership. Expected: {test.uid}, "
                      f"Actual: {answer.uid}")
    if test.gid != NO_OWNER and answer.gid != test.gid:
        errors.append(f"{path} has incorrect group ownership. Expected: {test.gid}, "
                      f"Actual: {answer.gid}")
    return errors


def judge_content(test: FileContentTest, answer: FileAnswer, path: str,
                  platform: Platform) -> list[str]:
    """file_content.go's Run: the file is read, every expected pattern in it, no excluded.
    Raises usercheck.Truncated where the file is longer than OUTPUT_CAP."""
    if answer.content is None:
        return [f"Failed to open {path}. Error: {answer.error or 'not found in image'}"]
    whole(answer.dropped, test.expected + test.excluded, path,
           "test a smaller file, or a command's shorter output (grep, head) in a commandTest")
    return _patterns(test.expected, test.excluded, answer.content, "file content string",
                     platform)


@dataclass(frozen=True)
class ImageConfig:
    """The image config as CST's GetConfig gives it (ports without their protocol)."""

    env: dict[str, str] = field(default_factory=dict)
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    workdir: str = ""
    exposed_ports: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    user: str = ""

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> ImageConfig:
        """From ``docker image inspect``'s ``Config``."""
        return cls(environment(config.get("Env")), tuple(config.get("Entrypoint") or ()),
                   tuple(config.get("Cmd") or ()), tuple(config.get("Volumes") or {}),
                   config.get("WorkingDir") or "",
                   tuple(p.partition("/")[0] for p in config.get("ExposedPorts") or {}),
                   dict(config.get("Labels") or {}), config.get("User") or "")


def judge_metadata(test: MetadataTest, config: ImageConfig, platform: Platform) -> list[str]:
    """metadata.go's Run, field by field."""
    errors = []

    def pairs(wanted: tuple[EnvVar, ...], have: dict[str, str], what: str, where: str) -> None:
        for pair in wanted:
            if pair.key not in have:
                errors.append(f"{what} {pair.key} not found in {where}")
                continue
            value = fill(pair.value, platform)
            ok = search(pair.value, have[pair.key], platform) if pair.is_regex else \
                value == have[pair.key]
            if not ok:
                errors.append(f"{what} {pair.key} value {have[pair.key]} does not match "
                              f"expected value: {value}")

    pairs(test.env, config.env, "env var", "image env")
    errors += [f"env variable {p.key} should not be present in image metadata"
               for p in test.unbound_env if p.key in config.env]
    pairs(test.labels, config.labels, "label", "image metadata")
    for wanted, have, what in ((test.cmd, config.cmd, "Cmd"),
                               (test.entrypoint, config.entrypoint, "entrypoint")):
        if wanted is not None and tuple(fill(w, platform) for w in wanted) != have:
            errors.append(f"Image {what} {list(have)} does not match expected {what}: "
                          f"{list(wanted)}")
    if test.workdir and fill(test.workdir, platform) != config.workdir:
        errors.append(f"Image workdir {config.workdir} does not match config workdir: "
                      f"{test.workdir}")
    if test.user and fill(test.user, platform) != config.user:
        errors.append(f"Image user {config.user} does not match config user: {test.user}")
    errors += [f"Port {p} not found in config" for p in test.exposed_ports
               if p not in config.exposed_ports]
    errors += [f"Port {p} should not be exposed" for p in test.unexposed_ports
               if p in config.exposed_ports]
    errors += [f"Volume {v} not found in config" for v in test.volumes
               if fill(v, platform) not in config.volumes]
    errors += [f"Volume {v} should not be mounted" for v in test.unmounted_volumes
               if fill(v, platform) in config.volumes]
    return errors


def judge_license(files: Mapping[str, str | None], packages: Mapping[str, str | None] = {}
                  ) -> list[str]:
    """licenses.go's Run: every Debian package directory (``packages``: name to its
    copyright file's text, None when it has none) and every named file is readable and names
    no license of the blacklist."""
    errors = []
    for name, text in packages.items():
        if name in LICENSE_WHITELIST:
            continue
        path = f"{DEBIAN_DOCS}/{name}/copyright"
        if text is None:
            errors.append(f"Error reading license file for {name}: File {path} not found "
                          "in image")
            continue
        errors += _license_words(path, text)
    for path, text in files.items():
        if text is None:
            errors.append(f"Error reading license file for {path}: File {path} not found "
                          "in image")
            continue
        errors += _license_words(path, text)
    return errors


def _license_words(path: str, text: str) -> list[str]:
    upper = text.upper()
    return [f"Invalid license for {path}, license contains {word}"
            for word in LICENSE_BLACKLIST if word in upper]


@dataclass(frozen=True)
class LicenseAnswer:
    """The license files a license test reads: each named file's text, and each Debian
    package directory's copyright file's (None: it has none)."""

    files: Mapping[str, str | None] = field(default_factory=dict)
    packages: Mapping[str, str | None] = field(default_factory=dict)


Answer = CommandAnswer | FileAnswer | ImageConfig | LicenseAnswer


@dataclass(frozen=True)
class Seen:
    """What the engine side saw of one structure test, as it saw it: judged by
    harness.core.judging.verdicts (through :func:`errors`), never on the engine side."""

    test: structure.Test
    answer: Answer
    path: str = ""  # the path a file test read, its placeholders and variables filled
    shown: str = ""  # the config file as the user named it


def errors(seen: Seen, platform: Platform) -> list[str]:
    """CST's errors of one test's answer (empty: it passed). Raises usercheck.Truncated or
    PatternTimeout (usage errors) where the answer cannot be judged as given."""
    test, answer = seen.test, seen.answer
    if isinstance(test, CommandTest) and isinstance(answer, CommandAnswer):
        return judge_command(test, answer, platform)
    if isinstance(test, FileExistenceTest) and isinstance(answer, FileAnswer):
        return judge_existence(test, answer, seen.path)
    if isinstance(test, FileContentTest) and isinstance(answer, FileAnswer):
        return judge_content(test, answer, seen.path, platform)
    if isinstance(test, MetadataTest) and isinstance(answer, ImageConfig):
        return judge_metadata(test, answer, platform)
    if isinstance(test, structure.LicenseTest) and isinstance(answer, LicenseAnswer):
        return judge_license(answer.files, answer.packages)
    raise TypeError(f"a {type(answer).__name__} is no answer to a {test.kind} test")
