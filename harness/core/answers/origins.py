"""Which build step brought each file a finding names: its layer, and the instruction that
made that layer (``Dockerfile:12 COPY node_modules /app/node_modules``).

A file finding (a foreign binary, a program that cannot start, one that needs a later CPU)
says what is wrong; the step says where to fix it. Three pure steps, each of data the engine
gives (``harness.containers.image_layers`` reads it):

1. **layer**: the image's layer tars, headers only, in order; the last layer that adds or
   changes a path brought it, and a whiteout (``.wh.NAME``, ``.wh..wh..opq``) of a later
   layer takes it away again (:func:`summarise`, :func:`last_layers`);
2. **history**: the config's history, its entries without ``empty_layer`` one per layer in
   order, each with its ``created_by`` (BuildKit: ``COPY a /b # buildkit``, ``RUN /bin/sh -c
   ...``; the classic builder: ``/bin/sh -c #(nop) COPY file:... in /b``, ``/bin/sh -c ...``);
3. **Dockerfile line**: where the harness built the image, the built stage's instructions
   (those of the stages it starts FROM first), matched to the history from its end by
   instruction keyword (:func:`match`): the entries left over are the base image's, brought
   by the first stage's ``FROM``. Without a Dockerfile (``check REF``), the history's
   ``created_by`` alone names the step.

The items a finding lists start with the file's path (``/usr/bin/x (ELF ...)``,
``/usr/bin/x: needs libfoo.so``): :func:`path_of` finds it against the paths the layers hold,
so no item format has to be parsed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field

from harness.core import sinks
from harness.core.answers.audit import archive_path
from harness.core.jsondoc import JSON

INSTRUCTION_LIMIT = 160  # characters of an instruction shown in a finding
KEYWORDS = frozenset({"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
                      "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL",
                      "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_ARGS_PREFIX = re.compile(r"^\|\d+(?: \S+=\S*)* ")  # "|2 A=1 B=2 " before a RUN's command
_SHELL = "/bin/sh -c "
_NOP = "/bin/sh -c #(nop)"


@dataclass(frozen=True)
class Instruction:
    line: int  # where it starts, 1-based
    keyword: str  # upper case: COPY, RUN, FROM
    text: str  # as written, continuation lines joined, whitespace runs made one space

    @property
    def args(self) -> str:
        return self.text.partition(" ")[2]


@dataclass
class Stage:
    start: Instruction  # its FROM
    base: str  # the image or stage it starts from, as written
    name: str | None  # AS name, lower case
    body: list[Instruction] = field(default_factory=list)


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions as BuildKit reads them: parser directives (``escape``)
    honoured, comments and blank lines left out (within a continuation too), continuation
    lines joined, a heredoc's body part of its instruction."""
    lines = text.splitlines()
    escape = "\\"
    i = 0
    while i < len(lines):  # parser directives come first, or not at all
        m = _DIRECTIVE.match(lines[i].strip())
        if not m:
            break
        if m[1].lower() == "escape" and m[2] in ("\\", "`"):
            escape = m[2]
        i += 1
    found: list[Instruction] = []
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first, parts = i + 1, list[str]()
        while True:
            stripped = lines[i].strip()
            i += 1
            if parts and (not stripped or stripped.startswith("#")):
                if i >= len(lines):
                    break
                continue  # comments and blank lines inside a continuation are no part of it
            if stripped.endswith(escape) and i < len(lines):
                parts.append(stripped[:-1])
                continue
            parts.append(stripped.removesuffix(escape) if i >= len(lines) else stripped)
            break
        joined = " ".join(" ".join(parts).split())
        keyword = joined.split(" ", 1)[0].upper()
        if keyword in ("RUN", "COPY", "ADD"):
            i = _skip_heredocs(joined, lines, i)
        found.append(Instruction(first, keyword, joined))
    return found


def _skip_heredocs(joined: str, lines: list[str], i: int) -> int:
    """The index of the line after the bodies of the heredocs ``joined`` opens."""
    for m in _HEREDOC.finditer(joined):
        word, dash = m[3], m[1] == "-"
        while i < len(lines):
            line = lines[i].lstrip("\t") if dash else lines[i]
            i += 1
            if line == word:
                break
    return i


def stages(parsed: Iterable[Instruction]) -> list[Stage]:
    """The stages, each with its FROM and the instructions that follow it (those before the
    first FROM, global ARGs, belong to none)."""
    found: list[Stage] = []
    for ins in parsed:
        if ins.keyword == "FROM":
            words = [w for w in ins.args.split() if not w.startswith("--")]
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            found.append(Stage(ins, words[0] if words else "", name))
        elif found:
            found[-1].body.append(ins)
    return found


def chain(text: str, target: str | None = None) -> tuple[Instruction, list[Instruction]] | None:
    """The built stage's steps: the FROM of the stage its chain starts with (an image: it
    brought the base's layers), and every instruction after it, through the stages a
    ``FROM stage`` builds on. ``target``: the stage built (``--target``), else the last.
    None: the Dockerfile has no such stage."""
    found = stages(instructions(text))
    index = len(found) - 1
    if target is not None:
        index = next((n for n, s in enumerate(found) if s.name == target.lower()), -1)
    if index < 0:
        return None
    body: list[Instruction] = []
    seen: set[int] = set()
    while index not in seen:
        seen.add(index)
        stage = found[index]
        body = stage.body + body
        earlier = next((n for n, s in enumerate(found[:index]) if s.name == stage.base.lower()),
                       None)
        if earlier is None:
            return stage.start, body
        index = earlier
    return None  # a loop of stages: BuildKit refuses it, nothing to say


def history_keyword(created_by: str) -> tuple[str, str]:
    """The instruction keyword of a history entry's ``created_by``, and its arguments."""
    text = created_by.strip().removesuffix("# buildkit").strip()
    if text.startswith(_NOP):  # the classic builder's metadata, COPY and ADD
        text = text[len(_NOP):].strip()
    elif text.startswith(_SHELL) or _ARGS_PREFIX.match(text):  # the classic builder's RUN
        text = "RUN " + text
    word, _, rest = text.partition(" ")
    if word.upper() in KEYWORDS:
        return word.upper(), rest.strip()
    return "RUN", text  # an exec-form RUN of the classic builder: the command alone


def match(created_by: list[str], body: list[Instruction]) -> list[Instruction | None]:
    """For each history entry (all of them, in order), the instruction of ``body`` that made
    it, or None: the base's, or one the Dockerfile does not show. Matched from the end: each
    entry to the nearest instruction before the last one matched with its keyword; every
    builder records one entry per instruction after FROM, so this is the positional match
    whenever the keywords agree, and an entry no instruction explains moves nothing."""
    found: list[Instruction | None] = [None] * len(created_by)
    j = len(body) - 1
    for i in range(len(created_by) - 1, -1, -1):
        if j < 0:
            break  # the base image's entries
        keyword, _ = history_keyword(created_by[i])
        at = next((x for x in range(j, -1, -1) if body[x].keyword == keyword), None)
        if at is not None:
            found[i], j = body[at], at - 1
    return found


@dataclass(frozen=True)
class Step:
    """The step that brought ``path``: its layer, the instruction that made the layer, and
    where that instruction is (``file``:``line``), where the harness built the image."""

    path: str
    layer: str  # the layer's diff ID (sha256:...), "" where the history does not tell
    instruction: str  # the Dockerfile's, or the history's created_by (check REF)
    line: int | None = None
    file: str | None = None

    def label(self) -> str:
        """``Dockerfile:12 COPY node_modules /app/node_modules``, or the history's words."""
        what = sinks.visible(self.instruction)
        if len(what) > INSTRUCTION_LIMIT:
            what = what[:INSTRUCTION_LIMIT - 1] + "…"
        if self.file is not None and self.line is not None:
            return f"{sinks.visible(self.file)}:{self.line} {what}"
        return f"layer {self.layer[7:19] or '?'} {what}".rstrip()

    def to_dict(self) -> JSON:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: JSON) -> Step:
        line = data.get("line")
        return cls(str(data.get("path", "")), str(data.get("layer", "")),
                   str(data.get("instruction", "")), int(line) if line is not None else None,
                   data.get("file"))


def step_of(path: str, layer: int, diff_ids: list[str], history: list[JSON],
            built: tuple[Instruction, list[Instruction]] | None,
            dockerfile: str | None) -> Step:
    """The step of the file ``path`` brought by layer number ``layer``: the history entry of
    that layer (entries marked ``empty_layer`` have none), and the Dockerfile's instruction
    that made the entry where the harness built the image (``built``: :func:`chain`)."""
    digest = diff_ids[layer] if 0 <= layer < len(diff_ids) else ""
    layered = [n for n, h in enumerate(history) if not h.get("empty_layer")]
    if len(layered) != len(diff_ids) or not 0 <= layer < len(layered):
        return Step(path, digest, "")  # a history that does not follow the layers says nothing
    entry = layered[layer]
    created_by = [str(h.get("created_by") or "") for h in history]
    if built is None or dockerfile is None:
        return Step(path, digest, " ".join(created_by[entry].split()))
    start, body = built
    matched = match(created_by, body)
    first = next((n for n, m in enumerate(matched) if m is not None), len(matched))
    ins = matched[entry]
    if ins is None and entry < first:
        ins = start  # a layer of the base, below every instruction's: brought by FROM
    elif ins is None:
        return Step(path, digest, " ".join(created_by[entry].split()))
    return Step(path, digest, ins.text, ins.line, dockerfile)


# Instructions that never make a layer (their history entries are ``empty_layer``).
METADATA = KEYWORDS - {"ADD", "COPY", "RUN", "WORKDIR"}


def layered_history(entries: list[tuple[str, int]], layers: int) -> list[JSON] | None:
    """The config's history from the engine's history API, oldest first: (``created_by``,
    size), which says nothing of ``empty_layer``. An entry with a size made a layer; one
    without did where its instruction always makes one (RUN, COPY, ADD; WORKDIR but in the
    classic builder's ``#(nop)``), else not. None where that does not give ``layers``
    layers (a RUN that changed nothing has no layer under BuildKit): only the config can
    tell then."""
    history: list[JSON] = []
    for created_by, size in entries:
        keyword, _ = history_keyword(created_by)
        layered = size > 0 or keyword in ("RUN", "COPY", "ADD") or (
            keyword == "WORKDIR" and not created_by.strip().startswith(_NOP))
        history.append({"created_by": created_by, "empty_layer": not layered})
    return history if sum(not h["empty_layer"] for h in history) == layers else None


# -- which layer brought a path ----------------------------------------------------------


@dataclass
class Layer:
    """What one layer does to the paths asked about: adds (or changes) some, and removes
    what lower layers hold below a whiteout or an opaque directory."""

    adds: set[str] = field(default_factory=set)
    removes: list[str] = field(default_factory=list)  # a whiteout's path: it and below
    opaque: list[str] = field(default_factory=list)  # a directory: everything below


def summarise(names: Iterable[str], wanted: set[str]) -> Layer:
    """A layer's tar member names (headers only) read for the paths of ``wanted``."""
    layer = Layer()
    for name in names:
        path = archive_path(name).rstrip("/") or "/"
        directory, _, base = path.rpartition("/")
        if base == OPAQUE:
            layer.opaque.append(directory or "/")
        elif base.startswith(WHITEOUT):
            layer.removes.append(f"{directory}/{base[len(WHITEOUT):]}")
        elif path in wanted:
            layer.adds.add(path)
    return layer


def last_layers(layers: Iterable[Layer]) -> dict[str, int]:
    """Each path some layer adds, and the number of the last layer (0 is the lowest) that
    added or changed it and no later layer removed."""
    found: dict[str, int] = {}
    for number, layer in enumerate(layers):
        gone = [p for p in found if any(_below(p, r, True) for r in layer.removes)
                or any(_below(p, d, False) for d in layer.opaque)]
        for path in gone:  # a layer's whiteouts hide only what is below it
            del found[path]
        for path in layer.adds:
            found[path] = number
    return found


def _below(path: str, top: str, itself: bool) -> bool:
    if itself and path == top:
        return True
    return path.startswith(top.rstrip("/") + "/")


def candidates(item: str) -> list[str]:
    """The paths a listed item may start with: the whole item, and each part of it that
    ends where `` (`` or ``:`` begins the reason."""
    found = [item]
    for m in re.finditer(r" \(|:", item):
        if m.start() > 0:
            found.append(item[:m.start()])
    return found


def path_of(item: str, paths: Collection[str]) -> str | None:
    """The path ``item`` starts with, among ``paths``: the longest that fits."""
    return max((c for c in candidates(item) if c in paths), key=len, default=None)
