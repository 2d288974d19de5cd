"""container-structure-test (CST) configs, read as they are and judged as CST judges them.

A schemaVersion 2.0.0 file (YAML or JSON) of CST's commandTests, fileExistenceTests,
fileContentTests, metadataTest and licenseTests is parsed here into typed tests; each
test's answer (what the engine side saw: a command's stdout, stderr and exit status, a file's
tar header, its content, the image config) is judged by the rules of CST's own source, in
:mod:`harness.core.declared.structure_rules`.
Each test is a source of its own, ``cst:FILE::NAME``, judged on every platform.

Where the harness adds to CST: the placeholders of declared checks (``{dpkg}``, ``{uname}``,
``{triple}``, ``{goarch}``, ``{platform}``) are read in every value, so one file serves every
platform: in a regular expression (expectedOutput, expectedContents, isRegex values) as the
alternation of the platform's names, elsewhere (commands, paths, plain values) as its first
name. Regular expressions are searched unanchored and without flags, as Go's
``regexp.MatchString`` does, bounded in time as declared checks are.
Pure: no I/O.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import regex
import yaml

from harness.core import jsondoc
from harness.core.declared.usercheck import (
    MATCH_SECONDS,
    NAMES,
    PatternTimeout,
    expand,
)
from harness.core.failures.errors import UsageError
from harness.core.platforms.table import PLATFORMS, Platform

PREFIX = "cst:"  # a structure test's source: cst:FILE::NAME
# The keys are every one a released CST knew (pkg/types/v1, v2 and unversioned of tags
# v0.2.0 to v1.22.0, read with yaml.UnmarshalStrict), each with the meaning it had there;
# a key only a pull request had (isDirectory, sysctls, drop_capabilities) is unknown.
SCHEMA_VERSION = "2.0.0"  # CST's current schema; SchemaVersions in pkg/types/types.go
SCHEMA_V1 = "1.0.0"  # still read by CST: command a list, no metadata, no owner checks
TOP_KEYS = ("schemaVersion", "globalEnvVars", "commandTests", "fileExistenceTests",
            "fileContentTests", "metadataTest", "licenseTests", "containerRunOptions")
TOP_KEYS_V1 = ("schemaVersion", "globalEnvVars", "commandTests", "fileExistenceTests",
               "fileContentTests", "licenseTests")
COMMAND_KEYS = ("name", "setup", "teardown", "envVars", "exitCode", "command", "args",
                "expectedOutput", "excludedOutput", "expectedError", "excludedError")
COMMAND_KEYS_V1 = tuple(k for k in COMMAND_KEYS if k != "args")
EXISTENCE_KEYS = ("name", "path", "shouldExist", "permissions", "uid", "gid",
                  "isExecutableBy")
EXISTENCE_KEYS_V1 = ("name", "path", "shouldExist", "permissions")
CONTENT_KEYS = ("name", "path", "expectedContents", "excludedContents")
# env: metadataTest's environment in v0.1.0 to v1.11.0, renamed envVars in v1.13.0
METADATA_KEYS = ("envVars", "env", "unboundEnvVars", "exposedPorts", "unexposedPorts",
                 "entrypoint", "cmd", "workdir", "volumes", "unmountedVolumes", "labels",
                 "user")
LICENSE_KEYS = ("debian", "files")
ENV_KEYS = ("key", "value", "isRegex")
# containerRunOptions: the user is honoured; the rest change the container's powers or mount
# this machine's files, which a check of the image must not (see the docs' CST page).
RUN_OPTION_KEYS = ("user", "privileged", "allocateTty", "envVars", "envFile", "capabilities",
                   "bindMounts")
EXECUTABLE_BY = {"any": 0o111, "owner": 0o100, "group": 0o010, "other": 0o001}
# licenses.go: a copyright file containing one of these words (upper-cased) fails; the
# packages of the whitelist pass whatever their file says.
LICENSE_BLACKLIST = ("AGPL", "WTFPL")
LICENSE_WHITELIST = ("libgnutls30",)
DEBIAN_DOCS = "/usr/share/doc"
NO_OWNER = -1  # file_existence.go's defaultOwnership: uid/gid not checked


@dataclass(frozen=True)
class EnvVar:
    key: str
    value: str = ""
    is_regex: bool = False


@dataclass(frozen=True)
class CommandTest:
    name: str
    command: tuple[str, ...]  # command and args, as CST joins them
    setup: tuple[tuple[str, ...], ...] = ()
    teardown: tuple[tuple[str, ...], ...] = ()
    env: tuple[EnvVar, ...] = ()
    exit_code: int = 0
    expected_output: tuple[str, ...] = ()
    excluded_output: tuple[str, ...] = ()
    expected_error: tuple[str, ...] = ()
    excluded_error: tuple[str, ...] = ()
    kind: str = "command"


@dataclass(frozen=True)
class FileExistenceTest:
    name: str
    path: str
    should_exist: bool = True
    permissions: str = ""
    uid: int = NO_OWNER
    gid: int = NO_OWNER
    executable_by: str = ""
    kind: str = "file-existence"


@dataclass(frozen=True)
class FileContentTest:
    name: str
    path: str
    expected: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    kind: str = "file-content"


@dataclass(frozen=True)
class MetadataTest:
    name: str = "Metadata Test"  # CST's LogName: a file has one
    env: tuple[EnvVar, ...] = ()
    unbound_env: tuple[EnvVar, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    unexposed_ports: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    workdir: str = ""
    volumes: tuple[str, ...] = ()
    unmounted_volumes: tuple[str, ...] = ()
    labels: tuple[EnvVar, ...] = ()
    user: str = ""
    kind: str = "metadata"


@dataclass(frozen=True)
class LicenseTest:
    name: str
    debian: bool = False
    files: tuple[str, ...] = ()
    kind: str = "license"


Test = CommandTest | FileExistenceTest | FileContentTest | MetadataTest | LicenseTest


@dataclass(frozen=True)
class StructureFile:
    """One config file: its tests, in CST's order of running them."""

    shown: str  # the file as the user named it (its source names read FILE::NAME)
    tests: tuple[Test, ...]
    global_env: tuple[EnvVar, ...] = ()
    user: str = ""  # containerRunOptions.user

    def source(self, test: Test) -> str:
        return f"{PREFIX}{self.shown}::{test.name}"

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self.source(t) for t in self.tests)


# -- reading a file ---------------------------------------------------------------------------

# A config is data from outside: bounded before and while it is parsed. CST's own configs are
# a few KiB, a dozen levels deep and use no aliases; these bounds are far above that and far
# below what would cost a machine anything (an alias bomb of 437 bytes expands to 9^9 nodes).
CONFIG_LIMIT = 4 << 20  # bytes of a config file read; more is refused
CONFIG_LIMIT_TEXT = "4 MiB"
MAX_DEPTH = 64  # levels of nesting
MAX_NODES = 100_000  # values in the file, each alias counted as everything it stands for


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with nesting bounded as it composes (its composer recurses) and
    every node's size counted with aliases expanded (an alias is the same node again, so the
    count is exact and costs nothing): past :data:`MAX_NODES` it stops."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_DEPTH:
            raise _TooDeep()
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) in self._sizes:
            size = self._sizes[id(node)]  # an alias: the node it names, again
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        else:
            size = 1
        if size > MAX_NODES:
            raise _TooMany()
        self._sizes[id(node)] = size
        return node

    def _size(self, node: Any) -> int:
        if id(node) not in self._sizes:  # an alias of a node still being composed
            raise _Recursive()
        return self._sizes[id(node)]


class _TooDeep(Exception):
    pass


class _TooMany(Exception):
    pass


class _Recursive(Exception):
    pass


def load(data: bytes, shown: str, json_syntax: bool = False) -> Any:
    """A config's text (at most :data:`CONFIG_LIMIT` bytes, the reader's bound) parsed, YAML
    or JSON as CST reads it by the file's name, within the bounds above: anything past them,
    or not valid, is one usage error naming the file."""
    where = f"the structure test {shown}"
    syntax = "JSON" if json_syntax else "YAML"
    deep = UsageError(f"{where} is nested deeper than {MAX_DEPTH} levels",
                      "a CST config needs a few levels; fix the file")
    try:
        if json_syntax:
            return jsondoc.parse(data, max_bytes=CONFIG_LIMIT, max_depth=MAX_DEPTH)
        loader = _BoundedLoader(data)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except (_TooDeep, RecursionError):
        raise deep from None
    except jsondoc.Exceeded as exc:
        if exc.limit == "depth":
            raise deep from None
        raise UsageError(f"{where} is bigger than {CONFIG_LIMIT_TEXT}",
                         "a CST config needs kilobytes; fix the file") from None
    except _TooMany:
        raise UsageError(f"{where} has more than {MAX_NODES} values with its aliases "
                         "expanded (a YAML alias bomb?)",
                         "write the tests out, or use aliases that expand to less") from None
    except _Recursive:
        raise UsageError(f"{where} has an alias inside the value it names (recursive "
                         "aliases)", "remove the recursive alias") from None
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{where} is not valid {syntax}: {_bounded(first)}",
                         "fix its syntax") from None


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 60, 60
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 4
SHOWN_LIMIT = 200  # characters of a value of the config a message quotes


def _bounded(text: str) -> str:
    return text if len(text) <= SHOWN_LIMIT else text[:SHOWN_LIMIT - 3] + "..."


def echo(value: Any) -> str:
    """A value of the config as a message quotes it: its repr, bounded in depth, in items and
    in characters (an alias-shared value is never expanded whole)."""
    return _bounded(_REPR.repr(value))

class _Reader:
    """Typed access to one mapping of the file, every error naming where it is."""

    def __init__(self, data: Any, where: str, keys: tuple[str, ...]) -> None:
        if not isinstance(data, dict):
            raise UsageError(f"{where} is not a mapping", "see CST's schema 2.0.0")
        unknown = [k for k in data if k not in keys]
        if unknown:
            # yaml.UnmarshalStrict in CST: an unknown key is an error, not ignored
            near = difflib.get_close_matches(str(unknown[0]), keys, n=1)
            raise UsageError(f"unknown key {echo(unknown[0])} in {where}",
                             f"did you mean {near[0]!r}? (known keys: {', '.join(keys)})"
                             if near else f"known keys: {', '.join(keys)}")
        self.data, self.where = data, where

    def text(self, key: str, default: str = "", required: bool = False) -> str:
        value = self.data.get(key, default)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise UsageError(f"{self.where}: {key} must be a string, not {echo(value)}",
                             f"write {key}: 'TEXT'")
        if required and not str(value):
            raise UsageError(f"{self.where}: {key} is required", f"write {key}: 'TEXT'")
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise UsageError(f"{self.where}: {key} must be true or false, not {echo(value)}",
                             f"write {key}: true")
        return value

    def number(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{self.where}: {key} must be a whole number, not {echo(value)}",
                             f"write {key}: 0")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            raise UsageError(f"{self.where}: {key} must be a list of strings, not {echo(value)}",
                             f"write {key}: ['TEXT']")
        return tuple(str(v) for v in value)

    def optional_texts(self, key: str) -> tuple[str, ...] | None:
        return self.texts(key) if key in self.data and self.data[key] is not None else None

    def patterns(self, key: str) -> tuple[str, ...]:
        found = self.texts(key)
        for p in found:
            _compile(p, f"{self.where}: {key}")
        return found

    def commands(self, key: str) -> tuple[tuple[str, ...], ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(
                isinstance(c, list) and c and all(isinstance(a, str) for a in c) for c in value):
            # command.go's Validate: "remove all empty setup commands"
            raise UsageError(f"{self.where}: {key} must be a list of commands, each a "
                             "non-empty list of strings", f"write {key}: [['touch', '/x']]")
        return tuple(tuple(c) for c in value)

    def env(self, key: str, need_value: bool) -> tuple[EnvVar, ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise UsageError(f"{self.where}: {key} must be a list of key/value pairs",
                             f"write {key}: [{{key: NAME, value: VALUE}}]")
        found = []
        for i, item in enumerate(value):
            r = _Reader(item, f"{self.where}: {key}[{i}]", ENV_KEYS)
            var = EnvVar(r.text("key", required=True), r.text("value"), r.flag("isRegex", False))
            if need_value and not var.value:
                # command.go's Validate: non-empty keys and values for a command's env vars
                raise UsageError(f"{self.where}: {key}[{i}] has no value",
                                 "give every environment variable a value")
            if var.is_regex:
                _compile(var.value, f"{self.where}: {key}[{i}]")
            found.append(var)
        return tuple(found)


def _compile(pattern: str, where: str) -> None:
    for platform in PLATFORMS:  # as declared checks: every platform's expansion must compile
        try:
            regex.compile(expand(pattern, platform))
        except regex.error as exc:
            raise UsageError(f"{where}: {echo(pattern)} is not a regular expression: {exc}",
                             "fix the pattern (RE2 syntax, as CST reads it)") from None


def parse(data: Any, shown: str) -> StructureFile:
    """A CST config's tests, every key checked: an unknown key, a missing name or a schema
    version other than 2.0.0 is a usage error naming the file, before anything is built."""
    where = f"structure test {shown}"
    if not isinstance(data, dict):
        raise UsageError(f"{where} is not a mapping of CST keys",
                         f"start it with schemaVersion: '{SCHEMA_VERSION}'")
    version = data.get("schemaVersion")
    if version not in (SCHEMA_VERSION, SCHEMA_V1):
        raise UsageError(f"{where}: schemaVersion {echo(version)} is not one CST has",
                         f"write schemaVersion: '{SCHEMA_VERSION}' (CST's current schema)")
    v1 = version == SCHEMA_V1
    top = _Reader(data, where, TOP_KEYS_V1 if v1 else TOP_KEYS)
    tests: list[Test] = []
    for i, item in enumerate(_list(top, "commandTests")):
        r = _Reader(item, f"{where}: commandTests[{i}]", COMMAND_KEYS_V1 if v1 else COMMAND_KEYS)
        command = r.data.get("command")
        if v1:  # v1/command.go: the command and its arguments in one list
            if not isinstance(command, list) or not command or not all(
                    isinstance(a, str) for a in command):
                raise UsageError(f"{r.where}: command must be a non-empty list of strings",
                                 "write command: ['prog', '--flag'] (schema 1.0.0)")
            argv = tuple(command)
        elif not isinstance(command, str) or not command:
            raise UsageError(f"{r.where}: command must be a program's name (a string)",
                             "write command: 'prog' and args: ['--flag'] (schema 2.0.0)")
        else:
            argv = (command, *r.texts("args"))
        tests.append(CommandTest(
            r.text("name", required=True), argv, r.commands("setup"),
            r.commands("teardown"), r.env("envVars", need_value=True), r.number("exitCode", 0),
            r.patterns("expectedOutput"), r.patterns("excludedOutput"),
            r.patterns("expectedError"), r.patterns("excludedError")))
    # CST runs them in this order: commands, file contents, file existence, licenses, metadata
    for i, item in enumerate(_list(top, "fileContentTests")):
        r = _Reader(item, f"{where}: fileContentTests[{i}]", CONTENT_KEYS)
        tests.append(FileContentTest(r.text("name", required=True),
                                     r.text("path", required=True),
                                     r.patterns("expectedContents"),
                                     r.patterns("excludedContents")))
    for i, item in enumerate(_list(top, "fileExistenceTests")):
        r = _Reader(item, f"{where}: fileExistenceTests[{i}]",
                    EXISTENCE_KEYS_V1 if v1 else EXISTENCE_KEYS)
        by = r.text("isExecutableBy")
        if by and by not in EXECUTABLE_BY:
            raise UsageError(f"{r.where}: isExecutableBy {echo(by)} is not one of "
                             f"{', '.join(EXECUTABLE_BY)}", "write isExecutableBy: 'any'")
        tests.append(FileExistenceTest(r.text("name", required=True),
                                       r.text("path", required=True),
                                       r.flag("shouldExist", True), r.text("permissions"),
                                       r.number("uid", NO_OWNER), r.number("gid", NO_OWNER), by))
    licenses = _list(top, "licenseTests")
    for i, item in enumerate(licenses):
        r = _Reader(item, f"{where}: licenseTests[{i}]", LICENSE_KEYS)
        name = "License Test" if len(licenses) == 1 else f"License Test {i + 1}"
        tests.append(LicenseTest(name, r.flag("debian", False), r.texts("files")))
    if data.get("metadataTest") is not None:
        r = _Reader(data["metadataTest"], f"{where}: metadataTest", METADATA_KEYS)
        meta = MetadataTest(
            env=r.env("env", need_value=False) + r.env("envVars", need_value=False),
            unbound_env=r.env("unboundEnvVars", False),
            exposed_ports=r.texts("exposedPorts"), unexposed_ports=r.texts("unexposedPorts"),
            entrypoint=r.optional_texts("entrypoint"), cmd=r.optional_texts("cmd"),
            workdir=r.text("workdir"), volumes=r.texts("volumes"),
            unmounted_volumes=r.texts("unmountedVolumes"),
            labels=r.env("labels", need_value=False), user=r.text("user"))
        if meta != MetadataTest():  # metadata.go's IsEmpty: an empty one is skipped
            tests.append(meta)
    names = [t.name for t in tests]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise UsageError(f"{where}: two tests are named {echo(twice)}",
                         "give every test its own name (each is a test case of its own)")
    user = ""
    if data.get("containerRunOptions") is not None:
        r = _Reader(data["containerRunOptions"], f"{where}: containerRunOptions",
                    RUN_OPTION_KEYS)
        extra = [k for k in r.data if k != "user" and r.data[k] not in (None, False, [], "")]
        if extra:
            raise UsageError(f"{where}: containerRunOptions.{extra[0]} is not supported",
                             "the harness runs images unprivileged with nothing of this "
                             "machine mounted; keep only user")
        user = r.text("user")
    return StructureFile(shown, tuple(tests), top.env("globalEnvVars", need_value=False), user)


def _list(top: _Reader, key: str) -> list[Any]:
    value = top.data.get(key) or []
    if not isinstance(value, list):
        raise UsageError(f"{top.where}: {key} must be a list of tests", f"write {key}: [...]")
    return value


# -- platform placeholders and environment variables -----------------------------------------

_PLACEHOLDER = re.compile(r"\{(" + "|".join(NAMES) + r")\}")


def fill(text: str, platform: Platform) -> str:
    """A plain value for ``platform``: each placeholder its first name (``{dpkg}`` armhf)."""
    return _PLACEHOLDER.sub(lambda m: NAMES[m[1]](platform)[0], text)


def go_expand(text: str, env: Mapping[str, str]) -> str:
    """Go's ``os.Expand`` with ``env``, as CST substitutes the image's environment into a
    command (command.go) and a path (file_existence.go): ``$NAME`` and ``${NAME}`` become the
    value or nothing, ``$`` before no name stays, ``${}`` is eaten."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$" or i + 1 == len(text):
            out.append(text[i])
            i += 1
            continue
        name, width = _shell_name(text[i + 1:])
        if name:
            out.append(env.get(name, ""))
        elif not width:
            out.append("$")
        i += 1 + width
    return "".join(out)


_SPECIAL = "*#$@!?-0123456789"


def _shell_name(s: str) -> tuple[str, int]:
    if s[0] == "{":
        if len(s) > 2 and s[1] in _SPECIAL and s[2] == "}":
            return s[1], 3
        end = s.find("}", 1)
        if end == 1:
            return "", 2
        return (s[1:end], end + 1) if end > 0 else ("", 1)
    if s[0] in _SPECIAL:
        return s[0], 1
    m = re.match(r"[A-Za-z0-9_]*", s)
    assert m is not None
    return m[0], len(m[0])


def environment(pairs: list[str] | None) -> dict[str, str]:
    """An image config's ``Env`` list as CST's map (convertSliceToMap: split at the first =)."""
    found = {}
    for pair in pairs or []:
        key, _, value = pair.partition("=")
        found[key] = value
    return found


def search(pattern: str, text: str, platform: Platform) -> bool:
    """CST's ``CompileAndRunRegex``: the pattern found anywhere in ``text`` (Go's MatchString,
    no flags), its placeholders the platform's names, bounded in time."""
    try:
        return regex.search(expand(pattern, platform), text, timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        raise PatternTimeout(f"/{pattern}/ did not finish matching {len(text)} characters "
                             f"within {MATCH_SECONDS:.0f} s",
                             "rewrite the pattern without nested repetition") from None
