"""Native modules, found with no configuration and loaded where the image runs (the
``native-modules`` source).

A Python wheel's extension module says nothing of the CPU it needs: most of PyPI's carry no
x86-64 ISA note, so the CPU-level audit reads them as baseline, and the baseline-CPU run asks
only the image's commands. Loading each module is what shows it. From the audit's one pass
over the image's files this finds every ELF ``*.so`` under a ``site-packages`` or
``dist-packages`` of any Python of the image (venvs included), its import name, the
distribution and version that installed it (``*.dist-info/RECORD``, else ``top_level.txt``)
and the interpreter that imports it (the venv's ``bin/python``, else the image's
``pythonX.Y``). The probes then import them with that interpreter, many in one process
(:data:`LOADER`): on the platform, on its baseline CPU, and for a module that only loads on
the platform, on the later levels' CPUs to name the lowest one it needs. Node addons
(ELF ``*.node`` under any ``node_modules``, named by the nearest package.json) are loaded the
same way by the image's ``node`` (:data:`NODE_LOADER`).

A module that cannot be loaded at all (the loader's own ImportError: an undefined symbol, a
missing library, a foreign ELF file) or kills or hangs the interpreter is ``fail``; one that
loads on the platform and dies by an illegal instruction (or raises) on the baseline CPU is
``fail``, "needs a later CPU"; one whose import raises an ordinary exception on both CPUs (it
wants a display, a config file, a running service) is no fault of the image's CPU: a warning
that never fails the run. Pure: the probes run :data:`LOADER`, this reads what it said.
"""

from __future__ import annotations

import csv
import json
import posixpath
import re
import signal
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core import baseline, elf
from harness.core.diagnosis import clean, signal_of
from harness.core.origins import Step

SITE_DIRS = ("site-packages", "dist-packages")
TEXT_LIMIT = 4 << 20  # bytes of a RECORD or top_level.txt read (a big wheel's is ~1 MiB)
TEXT_BUDGET = 64 << 20  # bytes of them all read of one image (past it, names may be missing)
MESSAGE_LIMIT = 500  # characters of a loader's or exception's message kept
LISTED = 200  # modules kept in the report by outcome (the counts are always whole)
SHOWN = 20  # modules named in a finding (and so its JUnit case), then how many more
MODES = ("auto", "off")  # the native-modules option
# Seconds one module's import may take before it counts as hung: natively, and under QEMU
# (TCG runs a big module's init tens of times slower).
LIMIT_NATIVE = 20
LIMIT_EMULATED = 120

_SITE = re.compile(r"^(?P<prefix>.*?)/(?:lib|lib64)/python(?P<version>\d+(?:\.\d+)?)/"
                   r"(?:site|dist)-packages$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Module:
    """One extension module of the image and the interpreter that imports it."""

    path: str  # /opt/venv/lib/python3.11/site-packages/foo/_speed.cpython-311-x86_64-linux-gnu.so
    name: str  # foo._speed
    root: str  # the site-packages directory it is under
    python: str  # /opt/venv/bin/python
    distribution: str = ""  # foo ("" where no dist-info or egg-info names it)
    version: str = ""
    kind: str = "python"  # or "node": a Node addon, ``python`` the image's node
    foreign: str = ""  # why the ELF audit found its file not of the platform ("": it is)

    @property
    def command(self) -> list[str]:
        """The interpreter and its loader, to which :func:`args` are added."""
        if self.kind == "node":
            return [self.python, "-e", NODE_LOADER]
        return [self.python, "-c", LOADER]

    @property
    def package(self) -> str:
        """``foo 1.2.3``, as a finding names it."""
        return " ".join(x for x in (self.distribution, self.version) if x) or "no distribution"


def site_root(path: str) -> str | None:
    """The ``site-packages``/``dist-packages`` directory ``path`` is under (the innermost)."""
    parts = path.split("/")
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] in SITE_DIRS:
            return "/".join(parts[:i + 1])
    return None


def import_name(path: str, root: str) -> str | None:
    """The dotted name ``path`` is imported by from ``root``, or None where no import can
    name it (a library in ``numpy.libs/``, ``libfoo-1.2.so``): the file name up to its first
    dot (``foo.cpython-311-x86_64-linux-gnu.so``, ``foo.abi3.so``, ``foo.so``), after its
    directories."""
    if not path.endswith(".so") or not path.startswith(root + "/"):
        return None
    *dirs, filename = path[len(root) + 1:].split("/")
    parts = [*dirs, filename.partition(".")[0]]
    if not all(_IDENTIFIER.fullmatch(p) for p in parts):
        return None
    return ".".join(parts)


def node_root(path: str) -> str | None:
    """The ``node_modules`` directory ``path`` is under (the innermost)."""
    head, sep, _ = path.rpartition("/node_modules/")
    return head + "/node_modules" if sep else None


def wanted(path: str) -> bool:
    """Whether the audit keeps this file's text for :class:`Finder`: a distribution's RECORD
    or top_level.txt under a site directory, a package.json under a node_modules."""
    name = posixpath.basename(path)
    if name == "package.json":
        return node_root(path) is not None
    if name not in ("RECORD", "top_level.txt"):
        return False
    parent = posixpath.basename(posixpath.dirname(path))
    return parent.endswith((".dist-info", ".egg-info")) and site_root(path) is not None


def _name_version(directory: str) -> tuple[str, str]:
    """(name, version) of ``foo-1.2.dist-info`` or ``foo-1.2-py3.11.egg-info``."""
    stem = directory.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    return name, rest.partition("-")[0]


@dataclass
class Finder:
    """The extension modules of one image, from the audit's pass over its files."""

    elves: list[str] = field(default_factory=list)  # ELF shared objects under a site dir
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (name, version)
    tops: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (root, top)
    addons: list[str] = field(default_factory=list)  # ELF *.node under a node_modules
    packages: dict[str, tuple[str, str]] = field(default_factory=dict)  # dir -> (name, version)

    def elf(self, path: str, head: bytes) -> None:
        """A file's first bytes, as the audit reads them: kept if an ELF ``*.so`` under a
        site directory or an ELF ``*.node`` under a node_modules."""
        if path.endswith(".so") and site_root(path) is not None:
            found = self.elves
        elif path.endswith(".node") and node_root(path) is not None:
            found = self.addons
        else:
            return
        try:
            elf.parse_header(head)
        except elf.NotElf:
            return
        if elf.file_type(head) == elf.ET_DYN:
            found.append(path)

    def text(self, path: str, data: bytes) -> None:
        """A RECORD's, top_level.txt's or package.json's text (see :func:`wanted`)."""
        if posixpath.basename(path) == "package.json":
            self.packages[posixpath.dirname(path)] = _package(data)
            return
        root = site_root(path)
        if root is None:
            return
        owner = _name_version(posixpath.basename(posixpath.dirname(path)))
        lines = data.decode("utf-8", errors="replace").splitlines()
        if posixpath.basename(path) == "top_level.txt":
            for top in lines:
                if top.strip():
                    self.tops.setdefault((root, top.strip()), owner)
            return
        for row in csv.reader(lines):
            if row and row[0].endswith(".so"):
                where = posixpath.normpath(posixpath.join(root, row[0]))
                self.owners.setdefault(where, owner)

    def modules(self, paths: set[str] | frozenset[str],
                foreign: Mapping[str, str] | None = None) -> list[Module]:
        """Every importable extension module found, with the interpreter that imports it
        (``paths``: every path of the image, to find the interpreters); modules with no
        interpreter in the image are left out (nothing there can import them).
        ``foreign``: the audit's files of another platform, and what each is."""
        foreign = foreign or {}
        found = []
        for path in sorted(set(self.elves)):
            root = site_root(path)
            assert root is not None
            name = import_name(path, root)
            python = interpreter(root, paths)
            if name is None or python is None:
                continue
            dist, version = self.owners.get(path) or self.tops.get(
                (root, name.partition(".")[0])) or ("", "")
            found.append(Module(path, name, root, python, dist, version,
                                foreign=foreign.get(path, "")))
        node = next((p for p in NODES if p in paths), None)
        for path in sorted(set(self.addons)) if node else ():
            root = node_root(path)
            assert root is not None and node is not None
            dist, version = self._owner(path, root)
            found.append(Module(path, path[len(root) + 1:], root, node, dist, version, "node",
                                foreign.get(path, "")))
        return found

    def _owner(self, path: str, root: str) -> tuple[str, str]:
        """The nearest package.json's (name, version) above ``path``, within ``root``."""
        where = posixpath.dirname(path)
        while where.startswith(root + "/"):
            if where in self.packages and self.packages[where][0]:
                return self.packages[where]
            where = posixpath.dirname(where)
        return "", ""


# Where images keep node: the official node images, Debian's nodejs (and its old name).
NODES = ("/usr/local/bin/node", "/usr/bin/node", "/usr/bin/nodejs")


def _package(data: bytes) -> tuple[str, str]:
    """A package.json's (name, version), "" where it has none (or is no JSON object)."""
    try:
        said = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        return "", ""
    if not isinstance(said, dict):
        return "", ""
    name, version = said.get("name"), said.get("version")
    return (name if isinstance(name, str) else "")[:200], \
        (version if isinstance(version, str) else "")[:100]


def interpreter(root: str, paths: set[str] | frozenset[str]) -> str | None:
    """The image's Python that imports from the site directory ``root``: the venv's own
    (``pyvenv.cfg`` at its root), else the ``pythonX.Y`` of its prefix or of the image."""
    m = _SITE.match(root)
    if m is None:
        return None
    prefix, version = m["prefix"], m["version"]
    if f"{prefix}/pyvenv.cfg" in paths:  # a venv's python is of its lib/pythonX.Y
        names, dirs = [f"python{version}", "python3", "python"], [f"{prefix}/bin"]
    else:  # Debian's python3 reads /usr/local/lib/python3.X/dist-packages too
        names = [f"python{version}"]
        dirs = list(dict.fromkeys([f"{prefix}/bin", "/usr/local/bin", "/usr/bin"]))
    return next((f"{d}/{n}" for n in names for d in dirs if f"{d}/{n}" in paths), None)


def by_interpreter(modules: Iterable[Module], skip: Iterable[str] = ()) -> dict[str, list[Module]]:
    """The modules each interpreter imports, those named in ``skip`` (a dotted name, a
    package's prefix of it, or a distribution) left out."""
    skipped = tuple(skip)
    batches: dict[str, list[Module]] = {}
    for m in modules:
        if any(m.name == s or m.name.startswith(s + ".") or m.distribution == s
               for s in skipped):
            continue
        batches.setdefault(m.python, []).append(m)
    return batches


# -- loading -------------------------------------------------------------------------------

# Run by the image's Python as `python -c LOADER MARKER LIMIT NAME PATH ROOT ...`: imports each
# module in turn, as the application would (its packages first), and says what happened on a
# descriptor of its own (the modules' own output goes to /dev/null: it cannot bury the
# answers). Each import has LIMIT seconds: SIGALRM at its default action ends a hung one.
# Python 3.3+ (ImportError.path); the modules' output and exceptions are data, bounded here.
LOADER = r"""
import importlib, importlib.machinery, json, os, signal, sys
marker, limit, items = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
out = os.fdopen(os.dup(1), "w")
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 1)
os.dup2(null, 2)
suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
def say(**kw):
    out.write("\n" + marker + " " + json.dumps(kw) + "\n")
    out.flush()
say(ready=sys.version.split()[0])
for i in range(0, len(items) - 2, 3):
    name, path, root = items[i:i + 3]
    n = i // 3
    if not path.endswith(suffixes):
        say(i=n, status="suffix", message="")
        continue
    if root not in sys.path:
        sys.path.append(root)
    say(i=n, start=1)
    signal.alarm(limit)
    status, message = "ok", ""
    try:
        module = importlib.import_module(name)
        signal.alarm(0)
        where = getattr(module, "__file__", None) or ""
        if where and os.path.realpath(where) != os.path.realpath(path):
            status, message = "other", where
    except BaseException as e:
        signal.alarm(0)
        message = (type(e).__name__ + ": " + str(e))[:2000]
        status = "raised"
        own = getattr(e, "path", None) if isinstance(e, ImportError) else None
        if own and os.path.realpath(own) == os.path.realpath(path):
            status = "library" if "module export function" in message else "loader"
    say(i=n, status=status, message=message)
say(done=1)
"""

# The same for the image's node (`node -e NODE_LOADER MARKER LIMIT NAME PATH ROOT ...`, Node
# 12+): each addon loaded with process.dlopen, as require() loads it. Node has no alarm: a
# worker thread watches the load under way and ends the process with SIGALRM after LIMIT s.
# The addons' own output shares stdout: the answers start a line of their own.
NODE_LOADER = r"""
const fs = require("fs");
const [marker, limitText, ...items] = process.argv.slice(1);
const limit = Number(limitText);
const say = (o) => fs.writeSync(1, "\n" + marker + " " + JSON.stringify(o) + "\n");
let state = null;
try {
  const { Worker } = require("worker_threads");
  state = new Int32Array(new SharedArrayBuffer(8));
  const watch = new Worker(`
    const { workerData } = require("worker_threads");
    let seen = -1, since = Date.now();
    setInterval(() => {
      const now = Atomics.load(workerData, 0);
      if (now !== seen) { seen = now; since = Date.now(); }
      else if (Atomics.load(workerData, 1) && Date.now() - since > ${limit * 1000}) {
        process.kill(process.pid, "SIGALRM");
      }
    }, 100);`, { eval: true, workerData: state });
  watch.unref();
} catch (e) { state = null; }
say({ ready: process.version });
for (let i = 0; i + 2 < items.length; i += 3) {
  const n = i / 3;
  say({ i: n, start: 1 });
  if (state) { Atomics.store(state, 0, n + 1); Atomics.store(state, 1, 1); }
  let status = "ok", message = "";
  try {
    process.dlopen({ exports: {} }, items[i + 1]);
  } catch (e) {
    message = String((e && e.message) || e).slice(0, 2000);
    status = "raised";
    if (/self-register/.test(message)) status = "library";
    else if ((e && e.code === "ERR_DLOPEN_FAILED") ||
             /cannot open shared object|undefined symbol|ELF|not found/.test(message))
      status = "loader";
  }
  if (state) Atomics.store(state, 1, 0);
  say({ i: n, status: status, message: message });
}
say({ done: 1 });
process.exit(0);
"""

# What each outcome of a load means.
LOADED = ("ok", "library")  # imported; or a plain library dlopen'd, its constructors run
UNTRIED = ("suffix", "other")  # not this interpreter's suffix; another file has the name
# No answer on the baseline CPU: slow (TCG, a busy machine) or the interpreter not started
# there. The machine could not check, which is no finding against the module.
UNASKED = ("timeout", "no-python")


@dataclass(frozen=True)
class Load:
    """What one module's load said: ``status`` one of LOADED, UNTRIED, ``loader`` (the
    loader's own ImportError), ``foreign`` (a file of another platform, not tried: see
    :func:`foreign_load`), ``raised`` (any other exception), ``illegal`` (an illegal
    instruction), ``timeout``, ``crashed`` (another signal), ``exited`` (the interpreter
    left), ``no-python`` (the interpreter did not start); ``message`` bounded and escaped."""

    status: str
    message: str = ""

    @property
    def loaded(self) -> bool:
        return self.status in LOADED

    def describe(self) -> str:
        return f"{self.status}: {self.message}" if self.message else self.status


@dataclass
class Batch:
    """One run of :data:`LOADER` read back: each module's :class:`Load` by index, the index
    of the one under way when the process ended (None: none was), and whether it finished."""

    loads: dict[int, Load] = field(default_factory=dict)
    started: int | None = None
    ready: bool = False
    done: bool = False


def parse(output: str, marker: str) -> Batch:
    """What :data:`LOADER` said in ``output`` (lines that start with ``marker``)."""
    batch = Batch()
    prefix = marker + " "
    for line in output.splitlines():
        if not line.startswith(prefix):
            continue
        try:
            said = json.loads(line[len(prefix):])
        except ValueError:
            continue
        if not isinstance(said, dict):
            continue
        if "ready" in said:
            batch.ready = True
        elif said.get("done"):
            batch.done = True
        elif isinstance(said.get("i"), int):
            n = said["i"]
            if said.get("start"):
                batch.started = n
            else:
                batch.loads[n] = Load(str(said.get("status", "?")),
                                      clean(str(said.get("message", "")), MESSAGE_LIMIT))
                batch.started = None
    return batch


def death(status: int, output: str, limit: int) -> Load:
    """The :class:`Load` of a module under way when the interpreter ended with ``status``."""
    if baseline.illegal(status, output[-4096:]):
        return Load("illegal", "died by an illegal instruction (SIGILL)")
    number = signal_of(status)
    if number == signal.SIGALRM:
        return Load("timeout", f"did not finish loading within {limit} s")
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return Load("crashed", f"killed the interpreter ({name})")
    return Load("exited", f"the interpreter exited with status {status} during its import")


def foreign_load(module: Module, platform: str) -> Load | None:
    """What loading a module whose file the ELF audit found of another platform would say,
    in the audit's words (None: its file is the platform's): it is not tried, as glibc
    would name it "cannot open shared object file: No such file or directory"."""
    if not module.foreign:
        return None
    return Load("foreign", clean(f"the file is not {platform} ({module.foreign}): no loader "
                                 f"of {platform} can load it", MESSAGE_LIMIT))


def args(modules: Iterable[Module]) -> list[str]:
    """:data:`LOADER`'s arguments after the marker and the limit."""
    return [x for m in modules for x in (m.name, m.path, m.root)]


# -- the later CPU levels ---------------------------------------------------------------------

def later_levels(platform: str) -> list[str]:
    """The platforms of the same architecture with a later CPU level than ``platform`` whose
    CPU model the harness knows (harness.core.baseline.CPUS), lowest first."""
    order = {"linux/amd64": ["linux/amd64/v2", "linux/amd64/v3"],
             "linux/amd64/v2": ["linux/amd64/v3"],
             "linux/arm/v5": ["linux/arm/v6", "linux/arm/v7"],
             "linux/arm/v6": ["linux/arm/v7"]}
    return [p for p in order.get(platform, []) if p in baseline.CPUS]


# -- the observation's detail, and its judgement -------------------------------------------

@dataclass
class Outcome:
    """One module's loads: on the platform, on its baseline CPU, and the lowest later level
    it loads on ("" where none was tried, "none" where it loads on none)."""

    module: Module
    platform: Load
    baseline: Load | None = None
    level: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.module), "platform": asdict(self.platform),
                "baseline": asdict(self.baseline) if self.baseline else None,
                "level": self.level}


def needs_later(outcome: Outcome) -> bool:
    """Loads on the platform, not on its baseline CPU: the CPU's fault."""
    return outcome.platform.loaded and outcome.baseline is not None and \
        not outcome.baseline.loaded and outcome.baseline.status not in (*UNTRIED, *UNASKED)


def detail(outcomes: list[Outcome], cpu: str, interpreters: int, seconds: float
           ) -> dict[str, Any]:
    """The observation's detail: counts, and the modules by outcome (each list bounded)."""
    cannot = [o for o in outcomes if not o.platform.loaded and o.platform.status not in
              (*UNTRIED, "raised")]
    later = [o for o in outcomes if needs_later(o)]
    warned = [o for o in outcomes if o.platform.status == "raised" and not needs_later_raised(o)]
    slow = [o for o in outcomes if o.platform.loaded and o.baseline is not None
            and o.baseline.status in UNASKED]
    loaded = sum(o.platform.loaded for o in outcomes)
    return {"count": len(outcomes), "loaded": loaded, "interpreters": interpreters,
            "cpu": cpu, "seconds": round(seconds, 2),
            "cannot_load": [o.to_dict() for o in cannot[:LISTED]],
            "cannot_load_count": len(cannot),
            "needs_later": [o.to_dict() for o in later[:LISTED]],
            "needs_later_count": len(later),
            "warnings": [o.to_dict() for o in warned[:LISTED]], "warnings_count": len(warned),
            "slow": [o.to_dict() for o in slow[:LISTED]], "slow_count": len(slow),
            "raised_then_illegal": [o.to_dict() for o in outcomes
                                    if needs_later_raised(o)][:LISTED]}


def needs_later_raised(outcome: Outcome) -> bool:
    """Raised an ordinary exception on the platform, and died by an illegal instruction on
    its baseline CPU: that instruction is the CPU's fault whatever else the module wants."""
    return outcome.platform.status == "raised" and outcome.baseline is not None and \
        outcome.baseline.status == "illegal"


def summary(data: dict[str, Any]) -> str:
    count = int(data.get("count", 0))
    text = (f"{count} native module{'s' if count != 1 else ''}, {data.get('loaded', 0)} "
            "loaded on the platform")
    for key, what in (("cannot_load_count", "cannot load"),
                      ("needs_later_count", "not on its baseline CPU "
                                            f"({data.get('cpu') or '?'})"),
                      ("warnings_count", "raise on import")):
        if data.get(key):
            text += f", {data[key]} {what}"
    return text


def _named(item: dict[str, Any], load: str = "platform",
           steps: dict[str, Step] | None = None) -> str:
    """``foo 1.2 (foo._speed, /path/x.so, from Dockerfile:9 COPY ...): the message``, each
    part bounded; the step where ``steps`` knows the one that brought the file."""
    dist = " ".join(x for x in (item.get("distribution"), item.get("version")) if x)
    said = item.get(load) or {}
    message = clean(str(said.get("message") or said.get("status") or ""), MESSAGE_LIMIT)
    step = (steps or {}).get(str(item.get("path")))
    where = f", from {step.label()}" if step is not None else ""
    return (f"{clean(dist or 'no distribution', 120)} ({clean(str(item.get('name')), 200)}, "
            f"{clean(str(item.get('path')), 300)}{where}): {message}")


def _more(count: int) -> str:
    return f"; and {count - SHOWN} more (report.json lists them)" if count > SHOWN else ""


def _level_text(item: dict[str, Any], platform: str) -> str:
    level = item.get("level") or ""
    if level and level != "none":
        return f"loads on {level}'s CPU, {_cpu_of(level)}"
    if level == "none":
        return f"loads on none of the later CPUs the harness knows for {platform}"
    return ""


def _cpu_of(platform: str) -> str:
    return baseline.CPUS.get(platform, ("?", ""))[0]


def lowest(items: list[dict[str, Any]]) -> str:
    """The lowest level every module that needs a later CPU loads on ("" where one loads on
    none known)."""
    levels = [str(i.get("level") or "") for i in items]
    if not levels or any(lv in ("", "none") for lv in levels):
        return ""
    return max(levels, key=lambda lv: list(baseline.CPUS).index(lv) if lv in baseline.CPUS
               else -1)


@dataclass(frozen=True)
class Note:
    """A finding of the source, before it is a verdicts.Finding (which imports this)."""

    kind: str  # a harness.core.outcomes.Kind value
    message: str
    fix: str
    steps: tuple[Step, ...] = ()  # the build steps that brought the modules it names


def _steps_of(items: list[dict[str, Any]], known: dict[str, Step]) -> tuple[Step, ...]:
    """The steps of the modules a finding names, each once, in its order."""
    return tuple(dict.fromkeys(known[p] for p in (str(i.get("path")) for i in items)
                               if p in known))


def judge(platform: str, data: dict[str, Any]) -> list[Note]:
    """The findings of one platform's loads (an observation's detail, see :func:`detail`),
    each module that fails named with the build step that brought its file where that is
    known (``data["steps"]``, see harness.core.origins)."""
    found: list[Note] = []
    known = {s.path: s for s in map(Step.from_dict, data.get("steps") or ())}
    cannot = data.get("cannot_load", [])
    if cannot:
        n = int(data.get("cannot_load_count", len(cannot)))
        shown = "; ".join(_named(i, steps=known) for i in cannot[:SHOWN]) + _more(n)
        found.append(Note(
            "broken", f"{n} native module{'s' if n != 1 else ''} cannot load on {platform}: "
            f"{shown}", "install a release of the package built for this platform (a wheel "
            "of its architecture and libc, or build it from source in the image), with the "
            "libraries it links (the loader's message names what is missing)",
            _steps_of(cannot[:SHOWN], known)))
    later = [*data.get("needs_later", []), *data.get("raised_then_illegal", [])]
    if later:
        n = int(data.get("needs_later_count", 0)) + len(data.get("raised_then_illegal", []))
        cpu = data.get("cpu") or _cpu_of(platform)
        shown = "; ".join(f"{_named(i, 'baseline', known)} ({_level_text(i, platform)})"
                          if _level_text(i, platform) else _named(i, "baseline", known)
                          for i in later[:SHOWN]) + _more(n)
        level = lowest(later)
        publish = f"publish this image for {level}" if level else \
            "publish this image for the later CPU level it needs"
        found.append(Note(
            "broken", f"{n} native module{'s' if n != 1 else ''} need{'s' if n == 1 else ''} "
            f"a later CPU than {platform}: on {cpu}, its baseline CPU: {shown}",
            f"pin a release of the package built for the baseline (a wheel for "
            f"{platform}'s oldest CPU, or built from source with no -march above it), or "
            f"{publish}", _steps_of(later[:SHOWN], known)))
    slow = data.get("slow", [])
    if slow:
        n = int(data.get("slow_count", len(slow)))
        found.append(Note(
            "error", f"{n} native module{'s' if n != 1 else ''} could not be loaded on the "
            "baseline CPU (in time, or its interpreter did not start there): "
            + "; ".join(_named(i, "baseline") for i in slow[:SHOWN]) + _more(n),
            "rerun on a less busy machine; a module that hangs there is skipped with "
            "native-skip in [tool.harness]"))
    warned = data.get("warnings", [])
    if warned:
        n = int(data.get("warnings_count", len(warned)))
        found.append(Note(
            "absent", f"{n} native module{'s' if n != 1 else ''} raise{'s' if n == 1 else ''} "
            "an exception on import on both CPUs, no fault of the image's CPU (a warning): "
            + "; ".join(_named(i) for i in warned[:SHOWN]) + _more(n),
            "if the application imports it, give it what it wants (a display, a config "
            "file, a service) or list it in native-skip in [tool.harness]"))
    return found
