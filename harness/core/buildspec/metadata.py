"""Tags from templates, as docker/metadata-action writes them, and OCI annotations.

A team moving from build-push-action keeps its ``tags:`` lines and its ``--annotation``s:

- A tag template is one metadata-action line: ``type=semver,pattern={{major}}.{{minor}}``,
  ``type=sha``, ``type=ref,event=branch``, ``type=raw,value=latest,enable={{is_default_branch}}``
  (also ``ref,event=tag|pr`` and ``edge``). A line without ``type=`` is a raw tag. Lines are
  ordered by priority (metadata-action's defaults), the first value is the image's *version*,
  and ``latest`` is added as metadata-action's ``flavor: latest=auto`` adds it: when the first
  value came from a release tag (semver without pre-release, or ``ref,event=tag``).
- An annotation is buildx's ``--annotation [LEVELS:]KEY=VALUE``, LEVELS one or more of
  ``index``, ``manifest``, ``manifest-descriptor``, ``manifest[PLATFORM]`` (no levels: the
  manifests). The harness adds ``org.opencontainers.image.created``, ``revision``, ``source``
  and ``version`` where they are known, as metadata-action does; the user's own win.

Everything here is pure: the git facts come in a :class:`GitContext`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

import semver

from harness.core.failures.errors import UsageError
from harness.core.platforms.table import Platform, parse_platform

TAG = re.compile(r"[\w][\w.-]{0,127}")
# metadata-action's sanitizeTag: every run of characters a tag cannot hold becomes one "-".
_UNTAGGABLE = re.compile(r"[^a-zA-Z0-9._-]+")
PRIORITIES = {"semver": 900, "edge": 700, "ref": 600, "raw": 200, "sha": 100}
EVENTS = ("branch", "tag", "pr")
SHORT_SHA = 7
ANNOTATION_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
LEVELS = ("index", "manifest", "manifest-descriptor")
# A level, and the platform a manifest level may name: manifest[linux/arm64]
_LEVEL = re.compile(rf"({'|'.join(map(re.escape, LEVELS))})(?:\[([^\]]+)\])?")
OCI = "org.opencontainers.image."
SEMVER_FIELDS = ("raw", "version", "major", "minor", "patch")


@dataclass(frozen=True)
class GitContext:
    """What the tags and annotations are made from: the ref being built (``refs/heads/B``,
    ``refs/tags/T``, ``refs/pull/N/merge``), its commit, the repository's default branch and
    its public URL. Empty strings where unknown."""

    ref: str = ""
    sha: str = ""
    default_branch: str = ""
    repository: str = ""

    @property
    def branch(self) -> str:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else ""

    @property
    def tag(self) -> str:
        return self.ref.removeprefix("refs/tags/") if self.ref.startswith("refs/tags/") else ""


@dataclass(frozen=True)
class Template:
    type: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def priority(self) -> int:
        return int(self.attrs["priority"])


@dataclass(frozen=True)
class Tags:
    """The tags to write, in order, and the version (the first, highest-priority value)."""

    tags: list[str]
    version: str


def parse_template(text: str) -> Template:
    """One metadata-action ``tags:`` line; a usage error names what is wrong with it."""
    def bad(why: str, fix: str = "write a line as docker/metadata-action reads it, e.g. "
            "type=semver,pattern={{version}}") -> UsageError:
        return UsageError(f"--tag-template {text!r}: {why}", fix)

    try:
        fields = next(csv.reader([text], skipinitialspace=True), [])
    except csv.Error as exc:
        raise bad(str(exc)) from None
    kind, attrs = "raw", {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep:
            attrs["value"] = key.strip()
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "type":
            if value not in PRIORITIES:
                raise bad(f"type {value!r} is not one the harness writes",
                          f"use one of {', '.join(PRIORITIES)}")
            kind = value
        else:
            attrs[key] = value
    required = {"semver": "pattern", "ref": "event", "raw": "value"}.get(kind)
    if required and required not in attrs:
        raise bad(f"type={kind} needs {required}=")
    if kind == "ref":
        if attrs["event"] not in EVENTS:
            raise bad(f"event {attrs['event']!r} is not one of {', '.join(EVENTS)}")
        if attrs["event"] == "pr":
            attrs.setdefault("prefix", "pr-")
    if kind == "sha":
        attrs.setdefault("prefix", "sha-")
        attrs.setdefault("format", "short")
        if attrs["format"] not in ("short", "long"):
            raise bad(f"format {attrs['format']!r} is not short or long")
    attrs.setdefault("enable", "true")
    attrs.setdefault("priority", str(PRIORITIES[kind]))
    if not attrs["priority"].lstrip("-").isdigit():
        raise bad(f"priority {attrs['priority']!r} is not a whole number")
    for name, value in attrs.items():  # unknown expressions and fields fail now, not later
        if name == "pattern":
            for used in _EXPRESSION.findall(value):
                if used not in SEMVER_FIELDS:
                    raise bad(f"unknown field {{{{{used}}}}}", "a semver pattern names "
                              + ", ".join(f"{{{{{f}}}}}" for f in SEMVER_FIELDS))
        elif name != "match":
            _expand(value, GitContext(), f"{text!r}: {name}")
    return Template(kind, attrs, text)


_EXPRESSION = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def _expand(value: str, ctx: GitContext, where: str) -> str:
    """metadata-action's global expressions: {{branch}}, {{tag}}, {{sha}}, and
    {{is_default_branch}} / {{is_not_default_branch}} (for ``enable=``)."""
    on_default = bool(ctx.branch) and ctx.branch == ctx.default_branch
    known = {"branch": ctx.branch, "tag": ctx.tag, "sha": ctx.sha[:SHORT_SHA],
             "is_default_branch": str(on_default).lower(),
             "is_not_default_branch": str(not on_default).lower()}

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in known:
            raise UsageError(f"--tag-template {where}: unknown expression {{{{{name}}}}}",
                             "use {{branch}}, {{tag}}, {{sha}} or {{is_default_branch}}")
        return known[name]

    return _EXPRESSION.sub(one, value)


def _version_fields(raw: str) -> tuple[dict[str, str], bool] | None:
    """What a semver pattern may name, from a tag as node-semver reads it (one leading
    ``v`` allowed), and whether it is a release (no pre-release part); None when it is no
    version."""
    try:
        v = semver.Version.parse(raw[1:] if raw[:1] in ("v", "=") else raw)
    except ValueError:
        return None
    version = f"{v.major}.{v.minor}.{v.patch}" + (f"-{v.prerelease}" if v.prerelease else "")
    return {"raw": raw, "version": version, "major": str(v.major), "minor": str(v.minor),
            "patch": str(v.patch)}, not v.prerelease


def _value(template: Template, ctx: GitContext) -> tuple[str, bool] | None:
    """(value before prefix and suffix, whether it makes ``latest``), or None when the
    template gives nothing for this ref."""
    a, kind = template.attrs, template.type
    if kind == "raw":
        return _expand(a["value"], ctx, template.text), False
    if kind == "sha":
        return (ctx.sha[:SHORT_SHA] if a["format"] == "short" else ctx.sha, False) \
            if ctx.sha else None
    if kind == "edge":
        branch = a.get("branch") or ctx.default_branch
        return ("edge", False) if ctx.branch and ctx.branch == branch else None
    if kind == "ref":
        event = a["event"]
        if event == "branch":
            return (ctx.branch, False) if ctx.branch else None
        if event == "tag":
            return (ctx.tag, True) if ctx.tag else None
        if ctx.ref.startswith("refs/pull/"):
            return ctx.ref.removeprefix("refs/pull/").removesuffix("/merge"), False
        return None
    # semver: the tag being built, or value=
    raw = _expand(a["value"], ctx, template.text) if a.get("value") else ctx.tag
    if not raw:
        return None
    if a.get("match"):
        found = re.search(a["match"], raw)
        if found is None:
            return None
        raw = found.group(1) if found.groups() else found.group(0)
    parsed = _version_fields(raw.replace("/", "-"))
    if parsed is None:
        return None
    fields, release = parsed
    pattern = a["pattern"]
    if not release:
        # A pre-release gets its full version only: 1.2.0-rc.1 must not move the 1.2 tag.
        whole = _EXPRESSION.fullmatch(pattern.strip())
        pattern = pattern if whole is not None and whole.group(1) == "raw" else "{{version}}"
    return _EXPRESSION.sub(lambda m: fields[m.group(1)], pattern), release


def render_tags(lines: list[str], ctx: GitContext) -> Tags:
    """The tags ``lines`` give for ``ctx``, highest priority first, ``latest`` last where a
    release tag asked for it; a value that is no valid tag is a usage error."""
    templates = sorted((parse_template(line) for line in lines), key=lambda t: -t.priority)
    values: list[str] = []
    latest: bool | None = None
    for t in templates:
        enabled = _expand(t.attrs["enable"], ctx, t.text).strip().lower()
        if enabled not in ("true", "false"):
            raise UsageError(f"--tag-template {t.text!r}: enable= is neither true nor false",
                             "write enable=true, enable=false or enable={{is_default_branch}}")
        if enabled == "false":
            continue
        got = _value(t, ctx)
        if got is None or not got[0]:
            continue
        value = _expand(t.attrs.get("prefix", ""), ctx, t.text) + got[0] + \
            _expand(t.attrs.get("suffix", ""), ctx, t.text)
        value = _UNTAGGABLE.sub("-", value)
        if latest is None:
            latest = got[1]
        if value not in values:
            values.append(value)
    if latest and "latest" not in values:
        values.append("latest")
    for value in values:
        if not TAG.fullmatch(value):
            raise UsageError(f"the tag templates give {value!r}, which is not a tag",
                             "a tag starts with a letter, digit or _ and has up to 128 of "
                             "them, . and -: change the template's prefix or value")
    return Tags(values, values[0] if values else "")


# -- annotations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Annotation:
    levels: tuple[str, ...]
    platform: Platform | None
    key: str
    value: str


def parse_annotation(text: str) -> Annotation:
    """buildx's ``--annotation [LEVELS:]KEY=VALUE``; a usage error names what is wrong."""
    head, sep, value = text.partition("=")
    fix = ("write [index|manifest|manifest-descriptor[,…]:]KEY=VALUE, e.g. "
           "index:org.opencontainers.image.title=app")
    if not sep:
        raise UsageError(f"--annotation {text!r} has no =VALUE", fix)
    levels_text, colon, key = head.rpartition(":") if ":" in head else ("", "", head)
    levels: list[str] = []
    platform = None
    for level in (levels_text.split(",") if colon else ["manifest"]):
        found = _LEVEL.fullmatch(level.strip())
        if found is None:
            raise UsageError(f"--annotation {text!r}: unknown level {level!r}", fix)
        if found.group(2):
            if found.group(1) == "index":
                raise UsageError(f"--annotation {text!r}: an index is of no one platform",
                                 "name a platform on manifest levels only")
            try:
                platform = parse_platform(found.group(2))
            except ValueError as exc:
                raise UsageError(f"--annotation {text!r}: {exc}", fix) from None
        levels.append(found.group(1))
    if not ANNOTATION_KEY.fullmatch(key):
        raise UsageError(f"--annotation {text!r}: {key!r} is not an annotation key", fix)
    return Annotation(tuple(levels), platform, key, value)


@dataclass
class Annotated:
    """The annotations of one publish, by where they go."""

    index: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)  # platform -> keys
    descriptor: dict[str, dict[str, str]] = field(default_factory=dict)

    def of_manifest(self, platform: str) -> dict[str, str]:
        return dict(sorted(self.manifest.get(platform, {}).items()))

    def of_descriptor(self, platform: str) -> dict[str, str]:
        return dict(sorted(self.descriptor.get(platform, {}).items()))


def standard(ctx: GitContext, version: str, created: str) -> dict[str, str]:
    """The OCI keys metadata-action writes, where this run knows them."""
    found = {"created": created, "revision": ctx.sha, "source": ctx.repository,
             "version": version}
    return {OCI + k: v for k, v in found.items() if v}


def annotate(texts: list[str], platforms: list[Platform], defaults: dict[str, str]) -> Annotated:
    """Where each annotation goes: ``defaults`` on the index and every manifest, then the
    user's ``--annotation``s (which win)."""
    out = Annotated(dict(defaults), {p.name: dict(defaults) for p in platforms}, {})
    for text in texts:
        a = parse_annotation(text)
        if a.platform is not None and a.platform not in platforms:
            raise UsageError(f"--annotation {text!r} names {a.platform.name}, which is not "
                             "published", f"name one of {', '.join(p.name for p in platforms)}")
        targets = [a.platform] if a.platform else platforms
        for level in a.levels:
            if level == "index":
                out.index[a.key] = a.value
            for p in targets:
                if level != "index":
                    where = out.manifest if level == "manifest" else out.descriptor
                    where.setdefault(p.name, {})[a.key] = a.value
    return out
