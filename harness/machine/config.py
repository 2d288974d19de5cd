"""All configuration in one place: ``[tool.harness]`` in pyproject.toml, overridden by options."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.core import sinks
from harness.core.answers import sources
from harness.core.buildspec import dockerfile as dockerfile_text
from harness.core.buildspec.bake import BakeTarget, not_honoured
from harness.core.buildspec.contexts import LAYOUT, NamedContext
from harness.core.buildspec.secrets import Secret, SshForward, parse_secret, parse_ssh
from harness.core.declared import service, structure, usercheck
from harness.core.declared.structure import StructureFile
from harness.core.failures.errors import UsageError
from harness.core.oci.reference import IMAGE_NAME
from harness.core.platforms.engine_url import builder_name
from harness.core.platforms.table import Platform
from harness.core.platforms.unit import Unit, units_of
from harness.core.settings import options
from harness.core.settings.options import BUILDERS, QUIRK_POLICIES
from harness.core.settings.overrides import Override, structure_files
from harness.core.settings.overrides import parse as parse_overrides
from harness.machine import bake_print as bake_reader
from harness.machine import files, podman

__all__ = ["BUILDERS", "QUIRK_POLICIES", "HarnessConfig", "load"]


def opt(key: str) -> Any:
    """A field for the option ``key``, its default the one declared in
    ``harness.core.settings.options`` (written nowhere else), as the configuration holds it."""
    option = options.BY_KEY[key]
    return field(default_factory=lambda: typed(option, option.default))


def typed(option: options.Option, value: Any) -> Any:
    """A checked value as the configuration holds it: the option's own ``parse``, and a path
    a :class:`Path` (what the core, which does no I/O, leaves to the machine)."""
    value = option.typed(value)
    return Path(value) if option.kind == "path" and value is not None else value


@dataclass
class HarnessConfig:
    """The run's configuration. Each option's field is ``opt(KEY)``: its flag, key, default
    and conversion are its entry in ``harness.core.settings.options``; the fields without ``opt``
    are
    made from several options or from sub-tables of ``[tool.harness]``."""

    root: Path
    platforms: list[Platform] = opt("platforms")
    dockerfile: Path = opt("dockerfile")  # relative to the root
    context: Path = opt("context")  # None until load() makes it the Dockerfile's directory
    build_args: dict[str, str] = opt("build_args")
    labels: dict[str, str] = opt("labels")  # set on every platform's image
    report_dir: Path = opt("report_dir")
    report_dir_given: bool = False  # named by an option or pyproject, not the default
    image: str = opt("image")  # None until load() makes it harness/ + the Dockerfile's suffix
    image_given: bool = False  # named by --image or pyproject, not made from the Dockerfile
    builder: str = opt("builder")
    quirk_policy: str = opt("quirk_policy")
    progress: str = opt("progress")  # see harness.core.settings.options.PROGRESS
    require: frozenset[str] = opt("require")
    allow_foreign: tuple[str, ...] = opt("allow_foreign")  # globs where foreign ELF files are
    native_modules: str = opt("native_modules")  # see harness.core.answers.extensions.MODES
    native_skip: tuple[str, ...] = opt("native_skip")  # modules (or packages) not loaded
    checks: tuple[usercheck.DeclaredCheck, ...] = ()  # [tool.harness.checks]
    check_dirs: tuple[Path, ...] = opt("check_dirs")  # directories of the user's pytest checks
    structure: tuple[structure.StructureFile, ...] = opt("structure_tests")  # parsed
    services: tuple[service.ServiceCheck, ...] = opt("service_checks")  # or [tool.harness.service]
    overrides: tuple[Override, ...] = ()  # [[tool.harness.overrides]]
    engines: dict[str, str] = opt("engines")  # platform -> engine URL
    docker_context: str | None = opt("docker_context")  # harness.containers.engine
    mirror: str | None = opt("mirror")  # None: the Debian mirror of this machine's apt sources
    probe_timeout: float = opt("probe_timeout")
    hello_timeout: float = opt("hello_timeout")
    builds: int | None = opt("builds")  # builds at once on one engine; None: all at once
    refresh_bases: bool = opt("refresh_bases")
    offline_bases: bool = opt("offline_bases")  # never pull a base; serve Debian FROMs
    no_cache: bool = opt("no_cache")
    ref: str | None = opt("ref")  # check this published or local image instead of building
    # The platforms the checked index must hold, where this run checks only some (CI jobs).
    index_platforms: list[Platform] = opt("index_platforms")
    insecure_registry: bool = opt("insecure_registry")
    no_attest: bool = opt("no_attest")
    target: str | None = opt("target")  # the Dockerfile stage to build
    secrets: tuple[Secret, ...] = opt("secrets")  # where each comes from, never its value
    build_contexts: dict[str, NamedContext] = opt("build_contexts")  # local ones absolute
    ssh: tuple[SshForward, ...] = opt("ssh")  # where each agent or key is, never a key
    cache: str | None = opt("cache")  # HOST/REPO of every platform's build cache
    cache_from: tuple[str, ...] = opt("cache_from")
    cache_to: tuple[str, ...] = opt("cache_to")
    bake: tuple[str, ...] = opt("bake")  # --bake FILE… TARGET…, as given
    bake_target: str | None = None  # the definition's one target, read by buildx
    bake_notes: tuple[str, ...] = ()  # what of the target this version's run does not apply
    bake_tags: tuple[str, ...] = ()  # the target's tags in the definition (publish's)
    # With --bake: each target's own configuration (the run's is the first's, platforms of
    # all); empty without.
    bake_targets: tuple[HarnessConfig, ...] = field(default=(), repr=False, compare=False)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source a platform of this run is judged by: the built-in ones, the declared
        checks, the structure tests, the service checks (user pytest checks aside)."""
        return (*sources.NAMES, *(c.source for c in self.checks),
                *(s for f in self.all_structure for s in f.sources),
                *(c.source for c in self.services))

    @property
    def all_structure(self) -> tuple[StructureFile, ...]:
        """The structure-test files of the run and of its overrides, each once."""
        return structure_files(self.structure, self.overrides)

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every (target, platform) the run builds and checks: one unit of work each."""
        if not self.bake_targets:
            return units_of([(None, self.platforms)])
        return units_of([(t.bake_target, t.platforms) for t in self.bake_targets])

    def for_target(self, target: str | None) -> HarnessConfig:
        """The configuration a unit of ``target`` builds with."""
        return next((t for t in self.bake_targets if t.bake_target == target), self)

    def tag_for(self, platform: Platform) -> str:
        """Each platform's image has its own local tag, so no build can pick up another's;
        the default name is this project's and Dockerfile's own too (``harness/rust:
        linux-arm64-1a2b3c4d``), so two projects on one engine never move each other's tags.
        A name given with --image is taken as it is. After the build, every image is
        addressed by its ID (report.json's ``image.id``), never by this tag."""
        if self.image_given:  # one --image for several targets: each its own tag
            return f"{self.image}:{Unit(self.bake_target, platform).slug}"
        return f"{self.image}:{platform.slug}-{self.project_key}"

    @property
    def project_key(self) -> str:
        """8 hex digits of the project's directory and the Dockerfile's path."""
        where = f"{self.root.resolve()}\0{self.dockerfile.resolve()}"
        return hashlib.sha256(where.encode()).hexdigest()[:8]

    @functools.cached_property
    def dockerfile_source(self) -> str:
        """The Dockerfile's text, read once for every question asked of it."""
        return read_dockerfile(self.dockerfile)

    @property
    def takes_base_arg(self) -> bool:
        """Whether the Dockerfile takes ``ARG BASE_IMAGE``, the hook for per-platform bases."""
        return dockerfile_text.declares_base_arg(self.dockerfile_source)

    @property
    def base_image(self) -> str:
        return self.build_args.get("BASE_IMAGE") or dockerfile_text.base_arg_default(
            self.dockerfile_source)

    @property
    def log_dir(self) -> Path:
        return self.report_dir / "logs"

    def validate(self) -> None:
        # `check REF` builds nothing: the Dockerfile and its context are the build's alone.
        if self.ref is None and not _looks(self.dockerfile, Path.is_file):
            raise UsageError(f"no Dockerfile at {self.dockerfile}",
                             "pass --dockerfile PATH or set dockerfile in [tool.harness]")
        if self.ref is None and not _looks(self.context, Path.is_dir):
            raise UsageError(f"the build context {self.context} is not a directory",
                             "pass --context DIR or set context in [tool.harness]")
        try:
            builder_name(self.builder)
        except ValueError as exc:
            raise UsageError(f"--builder: {exc}", f"use one of {', '.join(BUILDERS)}, or a "
                             "name `docker buildx ls` lists") from None
        if self.quirk_policy not in QUIRK_POLICIES:
            raise UsageError(f"unknown quirk policy {self.quirk_policy!r}",
                             f"use one of {', '.join(QUIRK_POLICIES)}")
        if not self.platforms:
            raise UsageError("no platform to build", "pass --platform os/arch[/variant]")
        if self.ref is None and not dockerfile_text.has_from(self.dockerfile_source):
            raise UsageError(f"{self.dockerfile} has no FROM instruction (empty, or not a "
                             "Dockerfile)", "pass --dockerfile with a Dockerfile")
        for directory in self.check_dirs:
            if not _looks(directory, Path.is_dir):
                raise UsageError(f"--checks {directory}: no such directory",
                                 "pass --checks DIR with your pytest checks, or fix check-dirs "
                                 "in [tool.harness]")
            _check_syntax(directory)
        if not IMAGE_NAME.fullmatch(self.image):
            raise UsageError(f"--image {self.image!r} is not an image name",
                             "use lowercase letters, digits and . _ - / (no tag: the harness "
                             "adds one per platform)")
        _check_writable(self.report_dir)
        if not self.report_dir_given and _links_out(self.report_dir, self.root):
            raise UsageError(f"the default report directory {self.report_dir} is a link to "
                             f"{self.report_dir.resolve()}, outside the project",
                             "remove the link, or name the directory with --report-dir DIR")


def _looks(path: Path, test: Callable[[Path], bool]) -> bool:
    """``test(path)``, False where the system cannot even look (a name too long for it:
    pathlib answers False only for a path that is not there, and raises on ENAMETOOLONG), so
    the caller's one line says it is not there."""
    try:
        return test(path)
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return False


def _check_writable(directory: Path) -> None:
    """The report directory can be made and written, before any work is done."""
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"the report directory {directory} cannot be made: {existing} is a "
                         "file", "pass --report-dir DIR")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"the report directory {directory} is not writable",
                         "pass --report-dir DIR")


def _check_syntax(directory: Path) -> None:
    """The user's checks compile, before anything is built: pytest would only find a syntax
    error once it collects them, after every build and probe."""
    for path in sorted(directory.rglob("*.py")):
        try:  # pytest would block reading a FIFO it collects or a check imports: refused
            if not path.is_dir():
                files.regular(path)
        except files.NotRegular as exc:
            raise UsageError(f"--checks {directory}: {path} is {exc.kind}, not a regular file",
                             "remove it, or put a Python file in its place") from None
        except OSError:
            pass  # a dangling link: compile() below, or pytest, says so
        if not (path.name.startswith("test_") or path.name.endswith("_test.py")
                or path.name == "conftest.py"):
            continue
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise UsageError(f"--checks {directory}: {path}:{exc.lineno}: {exc.msg}",
                             "fix the syntax error in your check") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"--checks {directory}: cannot read {path}: {exc}",
                             "fix the file or remove it") from None


def _links_out(directory: Path, root: Path) -> bool:
    """Whether ``directory`` is a link that leads out of ``root``."""
    if not directory.is_symlink():
        return False
    return not directory.resolve().is_relative_to(root.resolve())


def read_dockerfile(dockerfile: Path) -> str:
    """A Dockerfile's text; empty when it cannot be read (validate() says so first)."""
    try:
        return dockerfile.read_text(errors="replace")
    except OSError:
        return ""


def dockerfile_base(dockerfile: Path) -> str:
    """The default of ``ARG BASE_IMAGE=…`` in the Dockerfile, or Debian bookworm-slim."""
    return dockerfile_text.base_arg_default(read_dockerfile(dockerfile))


TABLES = ("checks", "service", "overrides")  # sub-tables of [tool.harness] that are not options


def read_pyproject(root: Path) -> dict[str, Any]:
    """``[tool.harness]`` of ``root``'s pyproject.toml, keys checked (an unknown key is a
    usage error naming the nearest known one), by option key."""
    return _options_of(_section(root))


def _options_of(section: dict[str, Any]) -> dict[str, Any]:
    options.check_keys(k for k in section if k not in TABLES)
    return {options.BY_TOML[k].key: v for k, v in section.items() if k in options.BY_TOML}


def read_services(section: dict[str, Any]) -> tuple[service.ServiceCheck, ...]:
    """``[tool.harness.service]`` (``--service-check`` options, where given, replace it)."""
    table = section.get("service")
    return service.parse_table(table) if table is not None else ()


def read_structure(path: Path, shown: str) -> structure.StructureFile:
    """A container-structure-test config (YAML, or JSON by its name, as CST reads them),
    every key checked before anything is built. Only a regular file is read, and only
    ``structure.CONFIG_LIMIT`` bytes of it: a FIFO would block, ``/dev/zero`` never end."""
    try:
        data = files.read_regular(path, structure.CONFIG_LIMIT)
    except files.NotRegular as exc:
        raise UsageError(f"the structure test {shown} is {exc.kind}, not a regular file",
                         "pass --structure-tests with the path of a CST config file") from None
    except files.TooBig:
        raise UsageError(f"the structure test {shown} is bigger than "
                         f"{structure.CONFIG_LIMIT_TEXT}, too big to be a CST config",
                         "pass --structure-tests with the path of a CST config") from None
    except OSError as exc:
        raise UsageError(f"cannot read the structure test {shown}: {exc.strerror or exc}",
                         "pass --structure-tests with the path of a CST config") from None
    return structure.parse(structure.load(data, shown, path.suffix == ".json"), shown)


# Bytes of pyproject.toml read: a project's is a few kilobytes.
PYPROJECT_LIMIT = 16 << 20


def _section(root: Path) -> dict[str, Any]:
    """[tool.harness] of the project's pyproject.toml ({} if there is none); read as a
    user's file (a regular file only, bounded), and one tomllib cannot read is bad input."""
    path = root / "pyproject.toml"
    if not os.path.lexists(path):
        return {}
    try:
        data = tomllib.loads(files.read_regular(path, PYPROJECT_LIMIT).decode())
    except files.NotRegular as exc:
        raise UsageError(str(exc), "make pyproject.toml a regular file") from None
    except files.TooBig:
        raise UsageError(f"{path} is bigger than {PYPROJECT_LIMIT >> 20} MiB, too big to be a "
                         "project's pyproject.toml", "fix pyproject.toml") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise UsageError(f"cannot read {path}: a value is nested too deep for Python's TOML "
                         "reader", "fix pyproject.toml: nest arrays and tables a few levels "
                         "deep, not thousands") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", "fix the TOML syntax") from exc
    section = data.get("tool", {}).get("harness", {})
    if not isinstance(section, dict):
        raise UsageError(f"[tool.harness] in {path} is not a table", "write [tool.harness]")
    return section


def env_default(key: str) -> Any:
    """The default of an option, where the environment may set it (HARNESS_BUILDER)."""
    if key == "builder":
        return os.environ.get("HARNESS_BUILDER", options.BY_KEY[key].default)
    return options.BY_KEY[key].default


def parse_build_args(items: list[str]) -> dict[str, str]:
    converted: dict[str, str] = options.BY_KEY["build_args"].convert(items, "command line")
    return converted


def load(root: Path, **overrides: Any) -> HarnessConfig:
    """Merge pyproject's ``[tool.harness]`` with options (None or empty: not given); every
    value is converted and checked by its entry in ``harness.core.settings.options``."""
    section = _section(root)  # pyproject.toml read once
    settings = {k: options.BY_KEY[k].convert(v, "pyproject.toml")
                for k, v in _options_of(section).items()}
    given = {k: options.BY_KEY[k].convert(v, "command line")
             for k, v in overrides.items() if v not in (None, [], ())}
    # A bake target's settings are the project's, over [tool.harness]; options given win.
    # Each target is a configuration of its own; the run's is the first one's, holding all.
    found = [_load_one(root, section, dict(settings), given, target, baked) for target, baked
             in _bake(root, given.get("bake") or settings.get("bake"), given, settings)]
    named = [(i, o.target) for i, o in enumerate(found[0].overrides, 1) if o.target]
    targets = [cfg.bake_target for cfg in found]
    for i, name in named:
        if name not in targets:
            raise UsageError(f"[[tool.harness.overrides]] #{i}: target {name} is not a target "
                             "this run builds" + (f" ({', '.join(map(str, targets[:8]))})"
                                                  if targets[0] else " (no --bake)"),
                             "name one of its --bake targets, or drop target")
    if found[0].bake_target is None:
        return found[0]
    # Each target takes its own overrides; the run's (its parametrisation) all of them.
    own = tuple(replace(cfg, overrides=tuple(o for o in cfg.overrides
                                             if o.target in (None, cfg.bake_target)))
                for cfg in found)
    platforms = list(dict.fromkeys(p for cfg in found for p in cfg.platforms))
    return replace(found[0], platforms=platforms, bake_targets=own)


def _load_one(root: Path, section: dict[str, Any], settings: dict[str, Any],
              given: dict[str, Any], target: BakeTarget | None,
              baked: dict[str, object]) -> HarnessConfig:
    """The configuration of one target (``None``: the run's one Dockerfile)."""
    for key, pairs in baked.items():
        settings[key] = {**settings.get(key, {}), **pairs} if isinstance(pairs, dict) else pairs
    if "dockerfile" in given and "context" not in given:
        settings.pop("context", None)  # another Dockerfile: its own directory is the context
    for key, pairs in given.items():
        # KEY=VALUE options (build args, labels, engines) win key by key, as `docker compose
        # build --build-arg` over the compose file: `--build-arg VERSION=2` must not drop the
        # project's BASE_IMAGE.
        settings[key] = {**settings.get(key, {}), **pairs} \
            if options.BY_KEY[key].kind == "args" else pairs

    def value(key: str) -> Any:
        return settings.get(key, env_default(key))

    def path_of(text: str) -> Path:
        p = Path(text)
        return p if p.is_absolute() else root / p

    def path(key: str, default: str) -> Path:
        return path_of(settings.get(key) or default)

    # Every option the run takes, converted by its declaration (harness.core.settings.options) ...
    fields = {o.attr: typed(o, value(o.key)) for o in options.OPTIONS if o.config}
    # ... then the few that need the machine or other options: paths from the root, files
    # read and checked, the image named after the Dockerfile.
    dockerfile = path("dockerfile", options.BY_KEY["dockerfile"].default)
    checks = usercheck.parse(section.get("checks", {}))  # [tool.harness.checks], checked
    fields.update(
        dockerfile=dockerfile,
        context=path("context", str(dockerfile.parent)),
        report_dir=path("report_dir", options.BY_KEY["report_dir"].default),
        image=str(value("image") or "harness/" + _image_name(dockerfile, target)),
        check_dirs=tuple(path_of(d) for d in value("check_dirs")),
        structure=tuple(read_structure(path_of(f), f) for f in value("structure_tests")),
        services=fields["services"] or read_services(section),
        secrets=_secrets(list(value("secrets")), path_of, value("builder")),
        engines=podman.engines(fields["engines"], fields["platforms"]),  # --engine podman
        build_contexts=_contexts(fields["build_contexts"], path_of, value("builder")),
        ssh=_ssh(list(value("ssh")), path_of, value("builder")),
    )
    beyond = [p.name for p in fields["platforms"]
              if fields["index_platforms"] and p not in fields["index_platforms"]]
    if beyond:
        raise UsageError(f"--platform {beyond[0]} is not one of --index-platforms",
                         "name in --index-platforms every platform the index must hold")
    cfg = HarnessConfig(root=root, checks=checks, report_dir_given="report_dir" in settings,
                        image_given=bool(value("image")), **fields)
    if target is not None:
        cfg.bake_target = target.name
        cfg.bake_notes = tuple(not_honoured(target))
        cfg.bake_tags = target.tags
    if (cfg.cache or cfg.cache_from or cfg.cache_to) and cfg.builder == "classic":
        raise UsageError("--cache, --cache-from and --cache-to need BuildKit",
                         "use --builder buildx (or auto, with the buildx plugin installed)")
    cfg.overrides = parse_overrides(section.get("overrides", []), checks, cfg.sources,
                                    lambda f: read_structure(path_of(f), f))
    return cfg


def _secrets(given: list[str], path_of: Any, builder: str) -> tuple[Secret, ...]:
    """``--secret``s, each checked where it comes from before any build: the file is there,
    the variable is set. Only BuildKit takes secrets."""
    found = []
    for text in given:
        secret = parse_secret(text)
        if secret.src:
            where = path_of(secret.src)
            if not _looks(where, Path.is_file):
                raise UsageError(f"--secret {secret.id}: no file "
                                 f"{sinks.terminal(str(where), 200)}",
                                 "give the path of the file that holds the secret")
            secret = Secret(secret.id, str(where))
        elif secret.env not in os.environ:
            raise UsageError(f"--secret {secret.id}: the variable {secret.env} is not set",
                             f"set {secret.env} in the environment of the run")
        found.append(secret)
    if found and builder == "classic":
        raise UsageError("--secret needs BuildKit; the classic builder takes no secrets",
                         "use --builder buildx (or auto, with the buildx plugin installed)")
    return tuple(found)


def _ssh(given: list[str], path_of: Any, builder: str) -> tuple[SshForward, ...]:
    """``--ssh``es, checked as buildx checks them before any build: each key or socket is
    there, and an agent is named (SSH_AUTH_SOCK) where no path is given."""
    found = []
    for text in given:
        forward = parse_ssh(text)
        paths = tuple(path_of(p) for p in forward.paths)
        missing = [p for p in paths if not _looks(p, Path.exists)]
        if missing:
            raise UsageError(f"--ssh {sinks.terminal(forward.id, 80)}: no key or socket "
                             f"{sinks.terminal(str(missing[0]), 200)}",
                             "give the path of a key file or of an ssh agent's socket")
        if not paths and not os.environ.get("SSH_AUTH_SOCK"):
            shown = sinks.terminal(forward.id, 80)
            raise UsageError(f"--ssh {shown}: no ssh agent (SSH_AUTH_SOCK is not set)",
                             f"start an agent (eval $(ssh-agent); ssh-add), or write "
                             f"--ssh {shown}=PATH of a key")
        found.append(SshForward(forward.id, tuple(str(p) for p in paths)))
    if found and builder == "classic":
        raise UsageError("--ssh needs BuildKit; the classic builder forwards no ssh agent",
                         "use --builder buildx (or auto, with the buildx plugin installed)")
    return tuple(found)


def _contexts(given: dict[str, NamedContext], path_of: Any,
              builder: str) -> dict[str, NamedContext]:
    """Named build contexts, a local directory's (or OCI layout's) checked there, as buildx
    checks it, and made absolute (from the project's root, where buildx reads bake's too)."""
    if given and builder == "classic":
        raise UsageError("--build-context needs BuildKit; the classic builder takes no named "
                         "build contexts", "use --builder buildx (or auto, with the buildx "
                         "plugin installed)")
    found = {}
    for name, context in given.items():
        if context.kind in ("local", "layout"):
            where = path_of(context.path)
            if not _looks(where, Path.is_dir):
                raise UsageError(f"--build-context {name}: no directory "
                                 f"{sinks.terminal(str(where), 200)}",
                                 "give the directory the Dockerfile copies from, or "
                                 f"{name}=docker-image://REF")
            value = str(where) if context.kind == "local" else \
                LAYOUT + str(where) + context.value.removeprefix(LAYOUT)[len(context.path):]
            context = NamedContext(name, value, context.kind)
        found[name] = context
    return found


def _bake(root: Path, items: Any, given: dict[str, Any], settings: dict[str, Any]
          ) -> list[tuple[BakeTarget | None, dict[str, object]]]:
    """``--bake``'s targets and their settings (no target and {} without --bake), read in
    the run's docker context."""
    if not items:
        return [(None, {})]
    return list(bake_reader.resolve(root, items, given.get("docker_context")
                                    or settings.get("docker_context")))


def _image_name(dockerfile: Path, target: BakeTarget | None = None) -> str:
    # a bake target: its name; Dockerfile.rust -> rust; Dockerfile -> image
    suffix = target.name if target is not None else dockerfile.name.partition(".")[2]
    return re.sub(r"[^a-z0-9._-]", "-", suffix.lower()) or "image"
