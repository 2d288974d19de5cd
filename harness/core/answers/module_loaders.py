"""The loader scripts the image's own interpreters run to load its native modules
(harness.core.answers.extensions finds them), and what they said read back: many modules in one
process, each bounded in time, the one under way when the process died named by its death.

A module that cannot be loaded at all (the loader's own ImportError: an undefined symbol, a
missing library, a foreign ELF file) or kills or hangs the interpreter is ``fail`` (see
harness.core.answers.module_notes). Pure: the probes run the scripts, this reads what they said.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.core.answers import baseline
from harness.core.answers.extensions import Module
from harness.core.failures.diagnosis import clean, signal_name, signal_of

MESSAGE_LIMIT = 500  # characters of a loader's or exception's message kept
# Seconds one module's import may take before it counts as hung: natively, and under QEMU
# (TCG runs a big module's init tens of times slower).
LIMIT_NATIVE = 20
LIMIT_EMULATED = 120


def command(module: Module) -> list[str]:
    """The module's interpreter and its loader, to which :func:`args` are added."""
    if module.kind == "node":
        return [module.python, "-e", NODE_LOADER]
    if module.kind == "ruby":
        return [module.python, "-e", RUBY_LOADER]
    return [module.python, "-c", LOADER]


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

# The same for the image's ruby (`ruby -e RUBY_LOADER MARKER LIMIT NAME PATH ROOT ...`, Ruby
# 2.0+): each extension required by its path, as `require` loads it. Ruby's own handler
# reports a SIGILL ("[BUG] Illegal instruction") on stderr, left open for it, and aborts
# (harness.core.answers.baseline.illegal reads it). A C extension's init holds Ruby's lock, so no
# Ruby thread can watch it: a forked watcher told each load's start and end ends the process
# with SIGALRM after LIMIT s (its default action, set back: Ruby's own handler would wait for
# the lock). Messages are data: made valid UTF-8 and escaped as JSON by hand (json is itself
# a C extension).
RUBY_LOADER = r"""
marker, limit, items = ARGV[0], ARGV[1].to_i, ARGV[2..-1] || []
out = STDOUT.dup
out.sync = true
STDOUT.reopen(File::NULL, "w")
Signal.trap("ALRM", "SYSTEM_DEFAULT")
def q(s)
  s = s.to_s.dup.force_encoding("UTF-8").scrub("?")
  "\"" + s.gsub(/["\\\x00-\x1f\x7f]/) { |c| format("\\u%04x", c.ord) } + "\""
end
say = lambda do |h|
  body = h.map { |k, v| q(k) + ":" + (v.is_a?(Integer) ? v.to_s : q(v)) }.join(",")
  out.write("\n" + marker + " {" + body + "}\n")
end
watch = nil
begin
  rd, watch = IO.pipe
  parent = Process.pid
  pid = fork do
    watch.close
    out.close
    deadline = nil
    loop do
      wait = deadline && deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      if wait && wait <= 0
        Process.kill("ALRM", parent)
        exit!(0)
      end
      next unless IO.select([rd], nil, nil, wait)
      line = rd.gets
      exit!(0) if line.nil?
      deadline = line.start_with?("s") ?
        Process.clock_gettime(Process::CLOCK_MONOTONIC) + limit : nil
    end
  end
  rd.close
  Process.detach(pid)
  watch.sync = true
rescue NotImplementedError
  watch = nil
end
say.call("ready" => RUBY_VERSION)
(0...(items.length / 3)).each do |n|
  path = items[3 * n + 1]
  say.call("i" => n, "start" => 1)
  watch.write("s\n") if watch
  status, message = "ok", ""
  begin
    require path
  rescue Exception => e
    message = (e.class.name.to_s + ": " + e.message.to_s)[0, 2000]
    status = "raised"
    if e.is_a?(LoadError)
      status = message.include?("undefined symbol: Init_") ? "library" : "loader"
    elsif e.instance_of?(NameError) && e.message.start_with?("uninitialized constant")
      status = "partial"
    end
  end
  watch.write("e\n") if watch
  say.call("i" => n, "status" => status, "message" => message)
end
say.call("done" => 1)
exit!(0)
"""

# What each outcome of a load means.
# Imported; or a plain library dlopen'd, its constructors run; or a Ruby extension whose init
# ran up to a constant its gem's Ruby code defines before it requires it (debug's, rbs's):
# loading that code first would start what the gem does (a debugger), so it stops there.
LOADED = ("ok", "library", "partial")
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
        return Load("crashed", f"killed the interpreter ({signal_name(number)})")
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
    CPU model the harness knows (harness.core.answers.baseline.CPUS), lowest first."""
    order = {"linux/amd64": ["linux/amd64/v2", "linux/amd64/v3"],
             "linux/amd64/v2": ["linux/amd64/v3"],
             "linux/arm/v5": ["linux/arm/v6", "linux/arm/v7"],
             "linux/arm/v6": ["linux/arm/v7"]}
    return [p for p in order.get(platform, []) if p in baseline.CPUS]
