"""Every option, declared once: its flag, its ``[tool.harness]`` key, type, default, help and
how its value becomes the run configuration's.

The pytest plugin's options (``nox -s build``/``check``), the argparse parsers of the other
commands, the ``[tool.harness]`` reader, the generated reference page and the fields and
defaults of :class:`harness.machine.config.HarnessConfig` are all made from :data:`OPTIONS`,
as nox makes its command line and noxfile options from one list. Values from pyproject.toml
and from the command line go through the same :meth:`Option.convert`, so a wrong type is one
clear usage error wherever it was written; :meth:`Option.typed` then makes the configuration's
value (its ``parse``, where the option declares one). To add an option, add one entry here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.core.answers.extensions import MODES as NATIVE_MODES
from harness.core.answers.observation import SOURCES
from harness.core.buildspec import buildcache, contexts
from harness.core.declared import service
from harness.core.failures.errors import UsageError, check_known
from harness.core.platforms.engine_url import EVERY_PLATFORM, PODMAN, parse_engines
from harness.core.platforms.table import (
    DEFAULT_PLATFORMS,
    Platform,
    UnknownPlatform,
    parse_platforms,
)

BUILDERS = ("auto", "buildx", "classic")
QUIRK_POLICIES = ("warn", "fail")
PROGRESS = ("auto", "tty", "plain")
REQUIRABLE = SOURCES  # the sources a run can require


@dataclass(frozen=True)
class Option:
    key: str  # pyproject key with "-" for "_"; the HarnessConfig field unless `field` names it
    flag: str  # --platform
    kind: str  # "list", "lines", "path", "str", "choice", "float", "int", "bool", "args"
    default: Any
    help: str
    commands: frozenset[str]  # where the flag is offered: build, publish, merge, preflight, ...
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    in_pyproject: bool = True
    allowed: tuple[str, ...] = ()  # for lists: the values allowed
    # The checked value -> HarnessConfig's (default by kind: lists a tuple, KEY=VALUE a dict).
    # Pure: what needs the machine (paths from the root, files read) is harness.machine.config's.
    parse: Callable[[Any], Any] | None = None
    field: str = ""  # the HarnessConfig field, where it is not the key
    config: bool = True  # False: the command's own (publish, merge, matrix), not the run's
    nargs: str | None = None  # "+": the flag takes several words (--bake FILE TARGET)
    bare: tuple[str, str] | None = None  # for KEY=VALUE: (KEY, ITEM), ITEM alone is KEY=ITEM

    @property
    def toml_key(self) -> str:
        return self.key.replace("_", "-")

    @property
    def attr(self) -> str:
        """The :class:`~harness.machine.config.HarnessConfig` field this option fills."""
        return self.field or self.key

    def typed(self, value: Any) -> Any:
        """A converted value (or the default) as the run configuration holds it; None stays
        None (not given, and no default)."""
        if value is None:
            return None
        if self.parse is not None:
            return self.parse(value)
        if self.kind in ("list", "lines"):
            return tuple(value)
        if self.kind == "args":
            return dict(value)
        return value

    def convert(self, value: Any, where: str) -> Any:
        """``value`` as this option's type; a :class:`UsageError` naming ``where`` if not."""
        name = f"--{self.flag.lstrip('-')}" if where == "command line" else self.toml_key

        def bad(expected: str) -> UsageError:
            return UsageError(f"{name} in the {where} must be {expected}, not {value!r}",
                              f"write {self.example()}")

        if self.kind in ("list", "lines", "args"):
            if isinstance(value, str) and where == "command line":
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                if self.kind == "args" and isinstance(value, dict):
                    return {str(k): str(v) for k, v in value.items()}
                raise bad("a list of strings")
            items = [item.strip() for v in value for item in
                     (v.split(",") if self.kind == "list" else [v])]
            items = [i for i in items if i] if self.kind in ("list", "lines") else items
            unknown = [i for i in items if self.allowed and i not in self.allowed]
            if unknown:
                raise UsageError(f"{name}: unknown {unknown[0]!r}",
                                 f"use one of {', '.join(self.allowed)}")
            return _pairs(items, name, f"{self.flag} {self.metavar}", self.bare) \
                if self.kind == "args" else items
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise bad("true or false")
            return value
        if self.kind == "float":
            if isinstance(value, bool):  # float(True) is 1.0: a typo must not become 1 s
                raise bad("a number of seconds")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise bad("a number of seconds") from None
            if not number > 0 or number != number or number == float("inf"):
                raise bad("a number of seconds above 0")
            return number
        if self.kind == "int":
            if isinstance(value, (bool, float)):
                raise bad("a whole number of 1 or more")
            try:
                count = int(value)
            except (TypeError, ValueError):
                raise bad("a whole number of 1 or more") from None
            if count < 1:
                raise bad("a whole number of 1 or more")
            return count
        if not isinstance(value, str) or not value.strip():
            raise bad("a non-empty string")
        if self.kind == "choice" and value not in self.choices:
            raise bad(f"one of {', '.join(self.choices)}")
        return value

    def example(self) -> str:
        samples = {"list": '["a", "b"]', "lines": '["a"]', "args": '["KEY=VALUE"]', "bool": "true",
                   "float": "60", "int": "2", "path": '"path"', "str": '"text"'}
        sample = f'"{self.choices[0]}"' if self.choices else samples[self.kind]
        return f"{self.toml_key} = {sample} in [tool.harness], or {self.flag} " + (
            "" if self.kind == "bool" else (self.metavar or "VALUE"))


def _pairs(items: list[str], name: str, form: str,
           bare: tuple[str, str] | None = None) -> dict[str, str]:
    """``KEY=VALUE`` items (build arguments, engines); a malformed one names its option. The
    option's ``bare`` item alone stands for its key (``--engine podman``: ``*=podman``)."""
    args = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep and bare is not None and item == bare[1]:
            key, sep, value = bare[0], "=", item
        if not sep or not key:
            raise UsageError(f"{name}: {item!r} is not of the form {form.split()[-1]}",
                             f"write {form}")
        args[key] = value
    return args


def _platforms(names: Any, flag: str = "--platform") -> list[Platform]:
    try:
        return parse_platforms(list(names))
    except UnknownPlatform as exc:
        raise UsageError(str(exc), f"pass {flag} with a name from that list") from exc


def _index_platforms(names: Any) -> list[Platform]:
    return _platforms(names, "--index-platforms") if names else []


def _services(given: dict[str, str]) -> tuple[service.ServiceCheck, ...]:
    return tuple(service.parse_option(f"{k}={v}") for k, v in given.items())


RUN = frozenset({"build"})  # the options of a build-and-check run
ALL = frozenset({"build", "publish", "merge", "preflight", "matrix", "report"})

OPTIONS: tuple[Option, ...] = (
    Option("platforms", "--platform", "list", DEFAULT_PLATFORMS,
           "platform to build and check (repeatable or comma-separated)",
           ALL - {"merge"},
           "OS/ARCH[/VARIANT]", parse=_platforms),
    Option("dockerfile", "--dockerfile", "path", "Dockerfile", "the Dockerfile to build",
           RUN | {"preflight"}, "PATH"),
    Option("context", "--context", "path", None,
           "build context (default: the Dockerfile's directory)", RUN | {"preflight"}, "DIR"),
    Option("build_args", "--build-arg", "args", {}, "a build argument (repeatable)",
           RUN | {"preflight"}, "KEY=VALUE"),
    Option("labels", "--label", "args", {}, "a label set on every platform's image "
           "(repeatable)", RUN, "KEY=VALUE"),
    Option("target", "--target", "str", None, "the Dockerfile stage to build",
           RUN | {"preflight"}, "STAGE"),
    Option("secrets", "--secret", "lines", (),
           "a BuildKit build secret, as buildx takes it: id=NAME,src=PATH or id=NAME,env=VAR "
           "(repeatable; its value reaches no log, report or provenance)", RUN, "SPEC"),
    Option("ssh", "--ssh", "lines", (),
           "an ssh agent or keys for RUN --mount=type=ssh, as buildx takes it: default (the "
           "agent at SSH_AUTH_SOCK), ID or ID=PATH[,PATH] (repeatable; BuildKit only)", RUN,
           "SPEC"),
    Option("build_contexts", "--build-context", "args", {},
           "a named build context, as buildx takes it: NAME=DIR, NAME=docker-image://REF, "
           "NAME=oci-layout://DIR[:TAG] or NAME=URL, for the Dockerfile's FROM NAME or COPY "
           "--from=NAME (repeatable; BuildKit only)", RUN, "NAME=VALUE",
           parse=contexts.parse_all),
    Option("bake", "--bake", "lines", (),
           "build a target of a Bake or Compose definition, as `docker buildx bake -f FILE… "
           "TARGET…` resolves it (--print): its files, then the target or group (default: "
           "the default group); the target's dockerfile, context, platforms, args, stage, "
           "labels, secrets, cache, contexts, ssh and pull (bases made anew) are the run's, "
           "options given override them",
           RUN | {"preflight", "publish"}, "FILE", nargs="+"),
    Option("report_dir", "--report-dir", "path", "reports",
           "where report.json, report.md, junit.xml and logs/ go", ALL, "DIR"),
    Option("image", "--image", "str", None,
           "local image name; each platform is tagged NAME:os-arch[-variant] "
           "(default: harness/ + the Dockerfile's suffix, tagged os-arch[-variant]-KEY, "
           "KEY the project's own)", RUN | {"publish"}, "NAME"),
    Option("builder", "--builder", "str", "auto",
           "buildx (BuildKit), classic (docker SDK), auto, or the name of a buildx builder "
           "(`docker buildx ls`), which buildx builds with", RUN | {"preflight"}, "NAME"),
    Option("quirk_policy", "--quirk-policy", "choice", "warn",
           "whether a known harmless host effect warns or fails the run", RUN,
           choices=QUIRK_POLICIES),
    Option("require", "--require", "list", (),
           "a source whose absence makes the image wrong (repeatable; --require= for none)",
           RUN, "SOURCE", allowed=REQUIRABLE, parse=frozenset),
    Option("allow_foreign", "--allow-foreign", "list", (),
           "a path glob where ELF files of another platform are expected (repeatable)", RUN,
           "GLOB"),
    Option("native_modules", "--native-modules", "choice", "auto",
           "auto: load every Python extension module the image holds with its own "
           "interpreter, on the platform and its oldest CPU; off: load none", RUN,
           choices=NATIVE_MODES),
    Option("native_skip", "--native-skip", "list", (),
           "a native module not loaded: its dotted name, a package of it, or its "
           "distribution (repeatable)", RUN, "NAME"),
    Option("engines", "--engine", "args", {},
           "build and check a platform on another engine: PLATFORM=URL (unix://, tcp://, "
           "ssh://; repeatable); `podman` for the URL (or alone, for every platform): this "
           "machine's Podman, set up and started by preflight",
           RUN | {"preflight", "publish"}, "PLATFORM=URL", parse=parse_engines,
           bare=(EVERY_PLATFORM, PODMAN)),
    Option("docker_context", "--docker-context", "str", None,
           "the docker context whose engine (and TLS material) the run uses, as the docker "
           "CLI's own context option: over DOCKER_HOST and DOCKER_CONTEXT (not the build's "
           "directory)", RUN | {"preflight", "publish"}, "NAME"),
    Option("check_dirs", "--checks", "list", (),
           "a directory of your own pytest checks, run for every platform (repeatable)", RUN,
           "DIR"),
    Option("structure_tests", "--structure-tests", "list", (),
           "a container-structure-test config (schemaVersion 2.0.0), run for every platform "
           "(repeatable)", RUN, "FILE", field="structure"),
    Option("service_checks", "--service-check", "args", {},
           "start the image's own service on every platform and GET PATH on PORT: the body "
           "must match REGEX (repeatable; [tool.harness.service] in pyproject)", RUN,
           "PORT/PATH=REGEX", in_pyproject=False, field="services",
           parse=_services),
    Option("mirror", "--mirror", "str", None,
           "Debian mirror for bootstrapped bases (default: this machine's)",
           RUN | {"preflight"}, "URL"),
    Option("probe_timeout", "--probe-timeout", "float", 60.0,
           "seconds a probe may take before it counts as hung", RUN, "SECONDS"),
    Option("hello_timeout", "--hello-timeout", "float", 600.0,
           "seconds the hello-world compile may take", RUN, "SECONDS"),
    Option("builds", "--builds", "int", None,
           "at most N platforms built at once on one engine, the emulated ones first (default: "
           "all at once, as plain docker buildx build: their downloads overlap the emulated "
           "builds' work)", RUN, "N"),
    Option("cache", "--cache", "str", None,
           "keep every platform's build cache in this repository (HOST[:PORT]/REPO, a tag per "
           "platform), read before each build and written after a good one; bases the "
           "harness made travel with it", RUN, "REF", parse=buildcache.check_repository),
    Option("cache_from", "--cache-from", "lines", (),
           "buildx's --cache-from, {platform} replaced by the platform (linux-arm64); "
           "repeatable", RUN, "SPEC"),
    Option("cache_to", "--cache-to", "lines", (),
           "buildx's --cache-to, {platform} replaced by the platform; repeatable", RUN, "SPEC"),
    Option("progress", "--progress", "choice", "auto",
           "tty: one line per platform updated in place; plain: a line per change (CI "
           "logs); auto: tty when the output is a terminal", RUN, choices=PROGRESS),
    Option("no_cache", "--no-cache", "bool", False,
           "build every layer anew, read every file again for the audits and ask every "
           "image again (bases stay cached)", RUN),
    Option("refresh_bases", "--refresh-bases", "bool", False,
           "make cached bases anew", RUN),
    Option("offline_bases", "--offline-bases", "bool", False,
           "never pull a base: make Debian bases from the archive (and serve a Dockerfile's "
           "Debian FROMs from them on Docker 23+)", RUN),
    Option("ref", "--ref", "str", None,
           "check this image instead of building: HOST[:PORT]/REPO:TAG or a local image",
           frozenset({"build"}), "REF", in_pyproject=False),
    Option("index_platforms", "--index-platforms", "list", (),
           "with a check of an index: every platform it must hold, when --platform checks "
           "only some of them (a CI job per platform; default: --platform's)",
           frozenset({"build"}), "OS/ARCH[/VARIANT]", in_pyproject=False,
           parse=_index_platforms),
    Option("insecure_registry", "--insecure-registry", "bool", False,
           "allow plain HTTP to a registry that is not on loopback",
           frozenset({"build", "publish", "merge", "matrix"})),
    Option("registries", "--registry", "list", (),
           "registry to publish to, HOST[:PORT]/REPO (repeatable)",
           frozenset({"publish", "merge"}), "HOST/REPO", config=False),
    Option("tags", "--tag", "list", (), "tag to write the index under (repeatable)",
           frozenset({"publish", "merge"}), "TAG", config=False),
    Option("tag_templates", "--tag-template", "lines", (),
           "a tag as docker/metadata-action's tags: input writes it, from git's ref and "
           "commit: type=semver,pattern={{version}}, type=sha, type=ref,event=branch, "
           "type=raw,value=latest,enable={{is_default_branch}} (repeatable)",
           frozenset({"publish", "merge"}), "TEMPLATE", config=False),
    Option("annotations", "--annotation", "lines", (),
           "an OCI annotation as buildx writes it, [LEVELS:]KEY=VALUE, LEVELS index, "
           "manifest (the default), manifest-descriptor or manifest[PLATFORM] (repeatable; "
           "created, revision, source and version are added where known)",
           frozenset({"publish", "merge"}), "ANNOTATION", config=False),
    Option("sign", "--sign", "path", None,
           "a cosign private key: sign the index and every manifest, and attest each "
           "platform's verification statement, offline (no transparency log; the key's "
           "password in COSIGN_PASSWORD)", frozenset({"publish", "merge"}), "KEY", config=False),
    Option("runners", "--runner", "args", {},
           "the GitHub runner label of a platform's job, PLATFORM=LABEL (repeatable; default: "
           "its own architecture's hosted runner where GitHub has one)",
           frozenset({"matrix"}), "PLATFORM=LABEL", config=False),
    Option("no_attest", "--no-attest", "bool", False,
           "publish without the SBOM, provenance and verification attestations (made from "
           "the build's report.json, in BuildKit's format)", frozenset({"publish"})),
)
BY_KEY = {o.key: o for o in OPTIONS}
BY_TOML = {o.toml_key: o for o in OPTIONS if o.in_pyproject}


def check_keys(keys: Iterable[str], where: str = "[tool.harness] of pyproject.toml") -> None:
    """An unknown key is a usage error, with the nearest known one: a typo must not silently
    weaken a check."""
    check_known(keys, BY_TOML, where)


# -- the parsers made from the table ----------------------------------------------------------

AddOption = Callable[..., Any]


def _add(add: AddOption, option: Option, dest: str) -> None:
    kw: dict[str, Any] = {"dest": dest, "help": option.help}
    if option.kind == "bool":
        kw.update(action="store_true", default=None)
    elif option.nargs:  # --bake FILE… TARGET…: words up to the next flag, as buildx's
        kw.update(action="extend", nargs=option.nargs, default=[], metavar=option.metavar)
    elif option.kind in ("list", "lines", "args"):
        kw.update(action="append", default=[], metavar=option.metavar)
    else:
        kw.update(default=None, metavar=option.metavar)
        if option.choices:
            kw["choices"] = option.choices
    add(option.flag, **kw)


def add_pytest_options(group: Any) -> None:
    """The plugin's options (``harness_KEY`` dests), for ``nox -s build`` and ``check``."""
    for option in OPTIONS:
        if "build" in option.commands:
            _add(group.addoption, option, f"harness_{option.key}")


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with bad input a :class:`UsageError` (exit 4, one line) instead of exit 2."""

    def error(self, message: str) -> Any:  # argparse's own signature returns NoReturn
        raise UsageError(f"{self.prog}: {message}", f"see `{self.prog} --help`")


def argument_parser(command: str, **kw: Any) -> ArgumentParser:
    """An argparse parser with the table's options of ``command`` (dest: the key)."""
    parser = ArgumentParser(prog=f"python -m harness {command}", **kw)
    for option in OPTIONS:
        if command in option.commands:
            _add(parser.add_argument, option, option.key)
    return parser


def add_option(parser: argparse.ArgumentParser, key: str) -> None:
    """The table's option ``key`` (dest: the key) on the parser of a tool that is no command
    of the harness (the repository's bench: the options it passes on to its runs)."""
    _add(parser.add_argument, BY_KEY[key], key)


def given(namespace: Any, command: str, prefix: str = "") -> dict[str, Any]:
    """The options of ``command`` that were given on the command line, by key."""
    found = {}
    for option in OPTIONS:
        if command in option.commands:
            value = getattr(namespace, prefix + option.key, None)
            if value not in (None, []):
                found[option.key] = value
    return found
