"""A Bake (or Compose) definition as ``docker buildx bake --print`` resolves it: typed targets.

Variables, functions, ``matrix``, ``inherits``, compose files and ``x-bake`` are resolved by
buildx itself; this module only reads what it printed, ``{"group": {...}, "target": {...}}``,
whose shape is buildx's ``bake.Target`` (bake/bake.go). Two generations of it are read:
up to buildx 0.22 ``cache-from``, ``cache-to``, ``secret``, ``ssh``, ``output`` and
``attest`` are buildx's CSV strings; later ones print objects (``{"type": "registry",
"ref": …}``), which are turned back into the CSV a ``docker buildx build`` flag takes. From
0.23 on, ``${`` and ``%{`` in args, labels, annotations and ``dockerfile-inline`` are printed
escaped (``$${``), and read back unescaped. A key this module does not know is kept by name
(:attr:`BakeTarget.unread`), never an error: buildx adds keys. Platforms are normalised as
containerd's ``platforms.Normalize`` does, so ``linux/arm64/v8`` is ``linux/arm64``. Pure.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.core import sinks
from harness.core.failures.errors import UsageError

# The print of a large definition: a few hundred kilobytes at most.
PRINT_LIMIT = 8 << 20
# buildx's own rule for a target or group name (bake/bake.go, validTargetNameChars).
NAME = re.compile(r"[a-zA-Z0-9_-]+")
SHOWN = 200  # characters of a value from the definition shown in one line


class BadDefinition(UsageError):
    """buildx printed something that is not a definition the harness can read."""


@dataclass(frozen=True)
class BakeTarget:
    """One resolved target, as ``docker buildx bake --print`` printed it."""

    name: str
    context: str = "."
    dockerfile: str = "Dockerfile"  # relative to the context, as buildx takes it
    dockerfile_inline: str | None = None
    target: str | None = None  # the Dockerfile stage
    platforms: tuple[str, ...] = ()  # normalised, in the definition's order, each once
    args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)  # name -> source (target:NAME too)
    secrets: tuple[str, ...] = ()  # buildx --secret specs
    ssh: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    attest: tuple[str, ...] = ()
    output: tuple[str, ...] = ()
    pull: bool | None = None
    no_cache: bool | None = None
    unread: tuple[str, ...] = ()  # keys buildx printed that this module does not read

    @property
    def linked_targets(self) -> tuple[str, ...]:
        """The targets this one's ``contexts`` name with ``target:``."""
        return tuple(v.removeprefix("target:") for v in self.contexts.values()
                     if v.startswith("target:"))


@dataclass(frozen=True)
class Definition:
    """The targets asked for (groups expanded, in order, each once), and those printed only
    because a ``target:`` context links them."""

    targets: tuple[BakeTarget, ...]
    linked: tuple[BakeTarget, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets)


# -- platforms, as containerd normalises them ---------------------------------------------

def _arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd/platforms' normalizeArch (database.go), rule for rule."""
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", {"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9",
                         "v9.0": "v9"}.get(variant, variant)
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        return "arm", {"": "v7", "7": "v7", "5": "v5", "6": "v6", "8": "v8"}.get(variant, variant)
    return arch, variant


def normalise_platform(text: str, default_os: str = "linux") -> str:
    """``OS/ARCH[/VARIANT]`` as containerd's ``Normalize(Parse(text))`` writes it: lower
    case, ``macos`` is darwin, the architecture aliases (``x86_64``, ``aarch64``, ``armhf``,
    ``i386`` ...) their Go names, the variant that is the architecture's default dropped
    (``arm64/v8``), arm's implied one added (``arm`` is ``arm/v7``). One part alone is an
    architecture on ``default_os`` (or the OS, on its own); a name containerd would refuse
    is returned as written, for the platform table to refuse with its own message."""
    parts = text.strip().lower().split("/")
    if not all(parts) or len(parts) > 3:
        return text
    if len(parts) == 1:
        arch, variant = _arch(parts[0], "")
        if arch == parts[0] and arch in ("linux", "windows", "darwin", "macos", "freebsd"):
            return "darwin" if arch == "macos" else arch
        parts = [default_os, arch, variant]
    os_name = "darwin" if parts[0] == "macos" else parts[0]
    arch, variant = _arch(parts[1], parts[2] if len(parts) == 3 else "")
    return "/".join(p for p in (os_name, arch, variant) if p)


# -- the print --------------------------------------------------------------------------------

READ = ("context", "dockerfile", "dockerfile-inline", "target", "platforms", "args", "labels",
        "contexts", "secret", "ssh", "cache-from", "cache-to", "tags", "annotations", "attest",
        "output", "pull", "no-cache", "description", "inherits")


def shown(text: str) -> str:
    """A value from the definition, bounded and made inert for a terminal line."""
    return sinks.terminal(text, SHOWN)


def unescape(text: str) -> str:
    """buildx 0.23+'s print escapes ``${`` as ``$${`` and ``%{`` as ``%%{``."""
    return text.replace("$${", "${").replace("%%{", "%{")


def _csv(value: str) -> str:
    """One ``key=value`` of buildx's CSV, quoted as encoding/csv would where it must be."""
    return '"' + value.replace('"', '""') + '"' if re.search(r'[,"\n]', value) else value


def _spec(item: Any, where: str, first: str = "type") -> str:
    """A list item of cache-from, cache-to, output, attest or secret: buildx's CSV string,
    or (buildx 0.23+) an object of the same fields."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and all(isinstance(k, str) for k in item):
        keys = sorted(item, key=lambda k: (k != first, k))
        return ",".join(_csv(f"{k}={_scalar(item[k], where)}") for k in keys)
    raise BadDefinition(f"--bake: {where} holds {shown(repr(item))}, neither text nor an object",
                        "print the definition with `docker buildx bake --print` and fix it")


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)  # an ssh key's paths
    raise BadDefinition(f"--bake: {where} holds {shown(repr(value))}",
                        "print the definition with `docker buildx bake --print` and fix it")


def _ssh(item: Any, where: str) -> str:
    if isinstance(item, dict):  # buildx 0.23+: {"id": "default", "paths": [...]}
        paths = item.get("paths") or []
        return str(item.get("id", "")) + (f"={_scalar(paths, where)}" if paths else "")
    return _spec(item, where)


def _strings(value: Any, where: str, item: Callable[[Any, str], str] = _spec) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadDefinition(f"--bake: {where} is not a list", "fix it in the definition")
    return tuple(item(v, where) for v in value)


def _mapping(value: Any, where: str, escaped: bool) -> dict[str, str]:
    """args, labels or contexts: a null value (an arg declared without one) is left out, as
    buildx leaves it to the Dockerfile's default."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadDefinition(f"--bake: {where} is not an object", "fix it in the definition")
    return {str(k): unescape(_scalar(v, where)) if escaped else _scalar(v, where)
            for k, v in value.items() if v is not None}


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadDefinition(f"--bake: {where} is {shown(repr(value))}, not text",
                        "fix it in the definition")


def _flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise BadDefinition(f"--bake: {where} is {shown(repr(value))}, not true or false",
                        "fix it in the definition")


def read_target(name: str, body: Any, escaped: bool = False) -> BakeTarget:
    """One target of the print's ``target`` object."""
    if not isinstance(body, dict):
        raise BadDefinition(f"--bake: target {shown(name)} is not an object",
                            "fix it in the definition")
    w = f"target {shown(name)}:"
    inline = _text(body.get("dockerfile-inline"), f"{w} dockerfile-inline")
    platforms = [normalise_platform(p) for p in _strings(body.get("platforms"), f"{w} platforms")]
    return BakeTarget(
        name=name,
        context=_text(body.get("context"), f"{w} context") or ".",
        dockerfile=_text(body.get("dockerfile"), f"{w} dockerfile") or "Dockerfile",
        dockerfile_inline=unescape(inline) if inline is not None and escaped else inline,
        target=_text(body.get("target"), f"{w} target"),
        platforms=tuple(dict.fromkeys(platforms)),
        args=_mapping(body.get("args"), f"{w} args", escaped),
        labels=_mapping(body.get("labels"), f"{w} labels", escaped),
        contexts=_mapping(body.get("contexts"), f"{w} contexts", False),
        secrets=_strings(body.get("secret"), f"{w} secret", lambda v, x: _spec(v, x, "id")),
        ssh=_strings(body.get("ssh"), f"{w} ssh", _ssh),
        cache_from=_strings(body.get("cache-from"), f"{w} cache-from"),
        cache_to=_strings(body.get("cache-to"), f"{w} cache-to"),
        tags=_strings(body.get("tags"), f"{w} tags"),
        annotations=tuple(unescape(a) if escaped else a
                          for a in _strings(body.get("annotations"), f"{w} annotations")),
        attest=_strings(body.get("attest"), f"{w} attest"),
        output=_strings(body.get("output"), f"{w} output"),
        pull=_flag(body.get("pull"), f"{w} pull"),
        no_cache=_flag(body.get("no-cache"), f"{w} no-cache"),
        unread=tuple(sorted(str(k) for k in body if k not in READ)),
    )


def read_print(doc: Any, escaped: bool = False) -> Definition:
    """The definition of a print: the ``default`` group (what was asked for: buildx puts
    the named targets and groups there) expanded through the groups, each target once."""
    if not isinstance(doc, dict) or not isinstance(doc.get("target", {}), dict):
        raise BadDefinition("--bake: `docker buildx bake --print` printed no definition",
                            "run `docker buildx bake --print` and fix what it says")
    raw_groups = doc.get("group", {})
    raw_groups = {} if raw_groups is None else raw_groups
    if not isinstance(raw_groups, dict):
        raise BadDefinition("--bake: the print's group is not an object",
                            "fix the groups in the definition")
    groups = {str(g): _strings((v or {}).get("targets") if isinstance(v, dict) else v,
                               f"group {shown(str(g))}: targets")
              for g, v in raw_groups.items()}
    targets = {str(n): read_target(str(n), b, escaped) for n, b in doc.get("target", {}).items()}
    asked = groups.get("default", tuple(targets))
    order: list[str] = []

    def expand(names: Iterable[str], seen: frozenset[str]) -> None:
        for n in names:
            if n in targets:  # a target before a group of the same name, as buildx reads it
                if n not in order:
                    order.append(n)
            elif n in groups and n not in seen:  # a group in itself: read once
                expand(groups[n], seen | {n})

    expand(asked, frozenset({"default"}))
    return Definition(tuple(targets[n] for n in order),
                      tuple(t for n, t in targets.items() if n not in order), groups)


def parse_buildx_version(text: str) -> tuple[int, ...]:
    """``docker buildx version``'s ``github.com/docker/buildx v0.23.0 …`` (or Debian's
    ``0.13.1+ds1``) as numbers; () when it says none."""
    m = re.search(r"\bv?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def escapes_print(version: tuple[int, ...]) -> bool:
    """Whether this buildx prints ``${`` escaped (docker/buildx a91db7c, in 0.23.0)."""
    return version >= (0, 23)


def split_items(items: Iterable[str], is_file: Callable[[str], bool]) -> tuple[list[str],
                                                                             list[str]]:
    """``--bake FILE… [TARGET|GROUP…]`` told apart as buildx would have them: a file that is
    there is a file; else a word buildx allows as a target name (letters, digits, ``_``,
    ``-``: no ``.`` and no ``/``) is a target or group; anything else is a file (which the
    reader then finds missing)."""
    files: list[str] = []
    names: list[str] = []
    for item in items:
        (files if is_file(item) or not NAME.fullmatch(item) else names).append(item)
    return files, names


# Attributes a target may set that the harness's run does not apply (attest, output, tags and
# annotations are the publishing's): said once at the start of a run, never dropped silently.
NOT_HONOURED = (
    ("annotations", "annotations (publish --annotation writes them)"),
    ("attest", "attestations (the harness attests on publish)"),
    ("output", "outputs (the harness loads each platform's image)"),
    ("tags", "tags (each platform's image is tagged locally; publish --tag names the index)"),
)


def not_honoured(target: BakeTarget) -> list[str]:
    """What of ``target`` this version's run does not apply, each as a short phrase."""
    return [what for attr, what in NOT_HONOURED if getattr(target, attr) not in (None, (), {})]


def _remote(context: str) -> bool:
    return "://" in context or context.startswith("git@")


def settings(target: BakeTarget) -> dict[str, Any]:
    """``target`` as the run's options (keys of harness.core.settings.options, values as each
    option's ``convert`` returns them): what the project's ``[tool.harness]`` would say,
    and options given on the command line override. A target without platforms leaves the
    run's own (``--platform``, or the harness's default)."""
    if target.dockerfile_inline is not None:
        raise UsageError(f"--bake: target {shown(target.name)} has an inline Dockerfile "
                         "(dockerfile-inline), which this version does not build",
                         "write it to a file and name it in the target's dockerfile")
    if _remote(target.context):
        raise UsageError(f"--bake: target {shown(target.name)} builds a remote context "
                         f"({shown(target.context)}), which this version does not build",
                         "check the repository out and give its directory as context")
    dockerfile = target.dockerfile if posixpath.isabs(target.dockerfile) else \
        posixpath.join(target.context, target.dockerfile)
    found: dict[str, Any] = {"dockerfile": dockerfile, "context": target.context,
                             "build_args": dict(target.args), "labels": dict(target.labels)}
    if target.platforms:
        found["platforms"] = list(target.platforms)
    if target.target:
        found["target"] = target.target
    for key, value in (("secrets", target.secrets), ("cache_from", target.cache_from),
                       ("cache_to", target.cache_to), ("ssh", target.ssh)):
        if value:
            found[key] = list(value)
    if target.no_cache:
        found["no_cache"] = True
    if target.pull:  # the bases the harness serves are its own: pulled or made anew
        found["refresh_bases"] = True
    for name, source in target.contexts.items():
        if source.startswith("target:"):  # bake builds the linked target first; not yet here
            raise UsageError(f"--bake: target {shown(target.name)}'s context {shown(name)} is "
                             f"target {shown(source.removeprefix('target:'))} of the "
                             "definition, which this version does not build first",
                             f"build that target, and give its image in the target's "
                             f'contexts: {shown(name)} = "docker-image://IMAGE"')
    if target.contexts:  # checked and resolved as --build-context's (from the project's root)
        found["build_contexts"] = dict(target.contexts)
    return found


def asked_targets(definition: Definition) -> tuple[BakeTarget, ...]:
    """The targets a run builds, each one unit per platform (harness.core.platforms.unit); a
    usage error where there is none."""
    if not definition.targets:
        raise UsageError("--bake: the definition resolves to no target",
                         "name a target: --bake FILE TARGET")
    return definition.targets


def notice(name: str, notes: Iterable[str]) -> str | None:
    """The one line a run of target ``name`` starts with when some of it is not applied."""
    notes = list(notes)
    if not notes:
        return None
    return (f"--bake: target {shown(name)}: not applied by this version: {'; '.join(notes)} "
            "(see docs/guide/your-project.md, Bake and Compose)")
