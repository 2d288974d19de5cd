"""Verdicts: which disagreements are host quirks and which mean the image is wrong."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation
from harness.core.judging.verdicts import judge, worst
from harness.core.outcomes import Exit, Kind, Verdict
from harness.core.platforms.table import parse_platform
from harness.machine.host import RunMode

NATIVE = RunMode("native")
QEMU_ARM = RunMode("qemu", "qemu-arm", "/usr/libexec/qemu-binfmt/arm-binfmt-P", "PF", "7.2.22")
QEMU_AARCH64 = RunMode("qemu", "qemu-aarch64", "x", "PF", "7.2.22")
ELF = {  # (bits, machine, flags) of /bin/sh per dpkg architecture
    "amd64": b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00" + bytes(44),
    "i386": b"\x7fELF\x01\x01\x01" + bytes(9) + b"\x02\x00\x03\x00" + bytes(32),
    "arm64": b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\xb7\x00" + bytes(44),
    "armhf": b"\x7fELF\x01\x01\x01" + bytes(9) + b"\x02\x00\x28\x00" + bytes(16)
    + b"\x00\x04\x00\x05" + bytes(12),
}


def answers(dpkg: str, uname: str, bits: str, triple: str | None,
            config: tuple[str, str, str | None]) -> list[Observation]:
    found = [obs.config(*config), obs.dpkg(dpkg + "\n"), obs.uname(uname + "\n"),
             obs.getconf(bits + "\n"), obs.elf("sh-elf", ELF[dpkg], "/bin/dash")]
    if triple:
        found += [obs.rustc(f"rustc 1.63.0\nbinary: rustc\nhost: {triple}\nrelease: 1.63.0\n"),
                  obs.elf("rustc-elf", ELF[dpkg], "/usr/bin/rustc"), obs.cargo("cargo 1.65.0"),
                  obs.hello("Hello, world!\n", True), obs.elf("hello-elf", ELF[dpkg], "/h")]
    else:
        found += [obs.absent(s) for s in ("rustc", "rustc-elf", "cargo", "hello", "hello-elf")]
    return found


def test_arm64_under_qemu_passes() -> None:
    p = parse_platform("linux/arm64")
    got = judge(p, answers("arm64", "aarch64", "64", "aarch64-unknown-linux-gnu",
                           ("linux", "arm64", None)), "x86_64", QEMU_AARCH64)
    assert got.verdict == Verdict.PASS and got.findings == []


def test_386_on_x86_64_is_the_uname_quirk() -> None:
    p = parse_platform("linux/386")
    got = judge(p, answers("i386", "x86_64", "32", "i686-unknown-linux-gnu",
                           ("linux", "386", None)), "x86_64", NATIVE)
    assert got.verdict == Verdict.QUIRK
    [quirk] = got.findings
    assert (quirk.source, quirk.kind) == ("uname", "quirk")
    assert "PER_LINUX32" in quirk.message and "dpkg --print-architecture" in quirk.fix


def test_386_reporting_x86_64_under_qemu_is_not_excused() -> None:
    """Under qemu-i386 uname says i686; x86_64 there means the binary ran natively: wrong."""
    p = parse_platform("linux/386")
    got = judge(p, answers("i386", "x86_64", "32", None, ("linux", "386", None)), "aarch64",
                RunMode("qemu", "qemu-i386"))
    assert got.verdict == Verdict.FAIL


@pytest.mark.parametrize("variant", ["v5", "v6"])
def test_old_arm_variants_reporting_armv7l_under_qemu_are_a_quirk(variant: str) -> None:
    p = parse_platform(f"linux/arm/{variant}")
    found = [obs.config("linux", "arm", variant), obs.uname("armv7l\n")]
    got = judge(p, found, "x86_64", QEMU_ARM)
    assert got.verdict == Verdict.QUIRK
    assert "QEMU" in got.for_source("uname")[0].message


@pytest.mark.parametrize(("variant", "cpu", "said"), [("v5", "arm926", "armv5tel"),
                                                     ("v6", "arm1176", "armv6l")])
def test_the_armv7l_quirk_goes_where_the_baseline_cpu_answers_the_platforms_name(
        variant: str, cpu: str, said: str) -> None:
    p = parse_platform(f"linux/arm/{variant}")
    found = [obs.config("linux", "arm", variant), obs.uname("armv7l\n"),
             obs.baseline_cpu(cpu, "", [("uname -m", 0, False)], said)]
    assert judge(p, found, "x86_64", QEMU_ARM).verdict == Verdict.PASS
    # A baseline CPU that says armv7l too (QEMU's model list differs) leaves the quirk.
    found[-1] = obs.baseline_cpu(cpu, "", [("uname -m", 0, False)], "armv7l")
    assert judge(p, found, "x86_64", QEMU_ARM).verdict == Verdict.QUIRK


def test_the_386_quirk_stays_whatever_qemu_i386_answers() -> None:
    """Natively the kernel says x86_64 to the image's own tools; qemu-i386's i686 on the
    baseline run does not change what they see."""
    p = parse_platform("linux/386")
    found = [*answers("i386", "x86_64", "32", "i686-unknown-linux-gnu",
                      ("linux", "386", None)),
             obs.baseline_cpu("pentium2", "", [("uname -m", 0, False)], "i686")]
    assert judge(p, found, "x86_64", NATIVE).verdict == Verdict.QUIRK


def test_amd64_userland_labelled_arm64_fails_on_dpkg_and_elf() -> None:
    p = parse_platform("linux/arm64")
    got = judge(p, answers("amd64", "x86_64", "64", None, ("linux", "arm64", None)), "x86_64",
                QEMU_AARCH64)
    assert got.verdict == Verdict.FAIL
    failed = {f.source for f in got.findings if f.verdict == Verdict.FAIL}
    assert {"dpkg", "sh-elf", "uname"} <= failed
    assert "config" not in failed
    assert "linux/amd64" in got.for_source("dpkg")[0].message


def test_toolchain_of_another_architecture_fails_on_rustc() -> None:
    p = parse_platform("linux/386")
    found = answers("i386", "x86_64", "32", "x86_64-unknown-linux-gnu", ("linux", "386", None))
    got = judge(p, found, "x86_64", NATIVE)
    assert got.verdict == Verdict.FAIL
    [rustc] = got.for_source("rustc")
    assert rustc.kind == "mismatch" and "x86_64-unknown-linux-gnu" in rustc.message
    assert "dpkg --print-architecture" in rustc.fix


def test_image_of_another_platform_than_requested_fails_on_config() -> None:
    p = parse_platform("linux/arm64")
    got = judge(p, answers("i386", "x86_64", "32", None, ("linux", "386", None)), "x86_64",
                QEMU_AARCH64)
    [config] = got.for_source("config")
    assert config.kind == "mismatch" and "linux/386" in config.message


def test_missing_required_tool_fails_and_optional_one_does_not() -> None:
    p = parse_platform("linux/amd64")
    found = answers("amd64", "x86_64", "64", None, ("linux", "amd64", None))
    assert judge(p, found, "x86_64", NATIVE).verdict == Verdict.PASS
    got = judge(p, found, "x86_64", NATIVE, required=["rustc"])
    assert got.verdict == Verdict.FAIL
    assert [f.kind for f in got.for_source("rustc")] == ["missing"]
    assert got.for_source("rustc-elf") == []  # reported once, under rustc


def test_a_probe_that_could_not_run_is_an_error_not_a_failure() -> None:
    p = parse_platform("linux/amd64")
    found = [obs.config("linux", "amd64", None), obs.failed("uname", "timed out after 5 s")]
    got = judge(p, found, "x86_64", NATIVE)
    assert got.verdict == Verdict.ERROR


def test_hello_world_that_does_not_run_fails() -> None:
    p = parse_platform("linux/amd64")
    found = [obs.config("linux", "amd64", None),
             obs.hello("error: linker `cc` not found\n", False)]
    got = judge(p, found, "x86_64", NATIVE)
    assert got.verdict == Verdict.FAIL and "linker" in got.for_source("hello")[0].message


def test_worst_ranks_fail_above_error_above_quirk() -> None:
    assert worst([Verdict.PASS, Verdict.QUIRK]) == Verdict.QUIRK
    assert worst([Verdict.QUIRK, Verdict.ERROR]) == Verdict.ERROR
    assert worst([Verdict.ERROR, Verdict.FAIL, Verdict.PASS]) == Verdict.FAIL
    assert worst([]) == Verdict.PASS


def test_arm_v7_natively_on_an_aarch64_host_is_the_same_quirk() -> None:
    p = parse_platform("linux/arm/v7")
    found = [obs.config("linux", "arm", "v7"), obs.dpkg("armhf\n"), obs.uname("aarch64\n")]
    got = judge(p, found, "aarch64", NATIVE)
    assert got.verdict == Verdict.QUIRK
    assert "aarch64 host kernel" in got.for_source("uname")[0].message


def test_arm64_reporting_x86_64_is_not_a_quirk_even_natively() -> None:
    """Only 32-bit platforms inherit the 64-bit host's name; a 64-bit mismatch is wrong."""
    p = parse_platform("linux/arm64")
    got = judge(p, [obs.uname("x86_64\n")], "x86_64", NATIVE)
    assert got.verdict == Verdict.FAIL


def test_a_hostile_answer_is_bounded_and_escaped_in_what_is_shown() -> None:
    """A dpkg that prints megabytes and terminal escapes: report.json keeps 4 KiB of it, and
    the value shown in tables and findings has no raw control character."""
    answer = "\x1b[2J\x1b[1;1Hforged" + "A" * 10_000_000
    seen = obs.dpkg(answer)
    assert seen.raw is not None and len(seen.raw) <= obs.RAW_LIMIT
    assert seen.raw.endswith("more characters in the probe log]")
    assert seen.value is not None and "\x1b" not in seen.value and len(seen.value) <= 200
    assert obs.Observation.from_dict({**seen.to_dict()}) == seen  # bounded once, stable
    got = judge(parse_platform("linux/amd64"), [seen], "x86_64", NATIVE)
    [finding] = got.findings
    assert "\x1b" not in finding.message and len(finding.message) < 600


@pytest.mark.parametrize(("make", "answer", "platform"), [
    # Debian's rpm, measured in tiny images of each architecture here.
    (obs.rpm, "x86_64\n", "linux/amd64"), (obs.rpm, "i386\n", "linux/386"),
    (obs.rpm, "aarch64\n", "linux/arm64"), (obs.rpm, "arm\n", "linux/arm/v7"),
    # Fedora's and SUSE's spellings of the ARM level.
    (obs.rpm, "armv7hl\n", "linux/arm/v7"), (obs.rpm, "i686\n", "linux/386"),
    # Alpine's `apk --print-arch` (its armhf is ARMv6).
    (obs.apk, "x86_64\n", "linux/amd64"), (obs.apk, "x86\n", "linux/386"),
    (obs.apk, "aarch64\n", "linux/arm64"), (obs.apk, "armv7\n", "linux/arm/v7"),
    (obs.apk, "armhf\n", "linux/arm/v6"), (obs.apk, "riscv64\n", "linux/riscv64"),
])
def test_non_debian_userlands_name_their_platform(make: object, answer: str,
                                                  platform: str) -> None:
    seen = make(answer)  # type: ignore[operator]
    assert platform in seen.fits
    got = judge(parse_platform(platform), [seen], "x86_64", NATIVE)
    assert got.verdict == Verdict.PASS, got.findings


def test_a_non_debian_userland_of_another_platform_fails() -> None:
    got = judge(parse_platform("linux/arm64"), [obs.apk("x86_64\n")], "x86_64", NATIVE)
    [finding] = got.findings
    assert (finding.source, finding.kind, got.verdict) == ("apk", "mismatch", Verdict.FAIL)
    assert "the userland (apk) is x86_64" in finding.message


# -- a source that does not apply to the platform --------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("linux/arm64", ["isa"]), ("linux/386", ["isa"]), ("linux/amd64", []),
    ("linux/arm/v6", []), ("linux/ppc64le", ["isa", "baseline-cpu"]),
    ("linux/amd64/v4", ["baseline-cpu"])])
def test_which_sources_do_not_apply_to_a_platform_is_said_in_one_place(
        name: str, expected: list[str]) -> None:
    platform = parse_platform(name)
    assert [o.source for o in obs.not_applicable(platform)] == expected
    for seen in obs.not_applicable(platform):
        assert not seen.absent and seen.error is None  # not a missing answer, not a failure


def test_a_source_that_does_not_apply_is_not_applicable_never_absent() -> None:
    """The CPU-level audit on arm64 and 386 read grey "absent" in report.html."""
    platform = parse_platform("linux/arm64")
    found = answers("arm64", "aarch64", "64", None, ("linux", "arm64", None)) \
        + obs.not_applicable(platform)
    judged = judge(platform, found, "x86_64", QEMU_AARCH64)
    assert judged.verdict == Verdict.PASS
    [finding] = judged.for_source("isa")
    assert finding.kind == "not-applicable"
    assert finding.message.startswith("not applicable to linux/arm64: ")
    assert Kind.NOT_APPLICABLE.verdict == Verdict.PASS
    assert Kind.NOT_APPLICABLE.exit_status == Exit.OK


def _foreign_audit(steps: list[dict[str, object]]) -> Observation:
    from harness.core.answers.audit import Audit, Foreign
    found = Audit(files=3, foreign=[Foreign("/usr/local/bin/tool", "ELF 64-bit LSB x86-64"),
                                    Foreign("/app/node_modules/x/x.node",
                                            "ELF 64-bit LSB x86-64")], count=2)
    seen = obs.elf_audit("linux/arm64", found, 0.1)
    seen.detail["steps"] = steps
    return seen


def test_a_file_finding_names_the_step_that_brought_each_file() -> None:
    """Each file the finding lists is followed by its layer's instruction and line; the
    finding carries the steps for report.json."""
    from harness.core.answers.origins import Step
    tool = Step("/usr/local/bin/tool", "sha256:" + "1" * 64, "COPY tool /usr/local/bin/tool",
                6, "Dockerfile")
    modules = Step("/app/node_modules/x/x.node", "sha256:" + "2" * 64,
                   "COPY node_modules /app/node_modules # buildkit")
    got = judge(parse_platform("linux/arm64"),
                [obs.config("linux", "arm64", None),
                 _foreign_audit([tool.to_dict(), modules.to_dict()])],
                "amd64", QEMU_AARCH64)
    [finding] = got.for_source("elf-audit")
    assert ("/usr/local/bin/tool (ELF 64-bit LSB x86-64), from Dockerfile:6 COPY tool "
            "/usr/local/bin/tool") in finding.message
    assert ("/app/node_modules/x/x.node (ELF 64-bit LSB x86-64), from layer 222222222222 "
            "COPY node_modules /app/node_modules # buildkit") in finding.message
    assert finding.steps == (tool, modules)
    assert finding.to_dict()["steps"][0] == {
        "path": "/usr/local/bin/tool", "layer": "sha256:" + "1" * 64,
        "instruction": "COPY tool /usr/local/bin/tool", "line": 6, "file": "Dockerfile"}


def test_without_steps_a_file_finding_says_what_it_always_said() -> None:
    got = judge(parse_platform("linux/arm64"), [obs.config("linux", "arm64", None),
                                                _foreign_audit([])], "amd64", QEMU_AARCH64)
    [finding] = got.for_source("elf-audit")
    assert finding.message.endswith("/usr/local/bin/tool (ELF 64-bit LSB x86-64); "
                                    "/app/node_modules/x/x.node (ELF 64-bit LSB x86-64)")
    assert finding.steps == () and "steps" not in finding.to_dict()


def _native_loads(steps: list[dict[str, object]]) -> Observation:
    """An addon of another architecture that cannot load, and a module that needs a later
    CPU, as the probes' detail lists them (objects, with their paths)."""
    from harness.core.answers.extensions import Module
    from harness.core.answers.module_loaders import Load
    from harness.core.answers.module_notes import Outcome, detail
    foreign = Outcome(Module("/app/node_modules/somepkg/build/Release/addon.node",
                             "somepkg/build/Release/addon.node", "/app/node_modules",
                             "/usr/bin/node", "somepkg", "1.2.3", "node"),
                      Load("loader", "wrong ELF class"))
    fast = Outcome(Module("/opt/venv/lib/python3.11/site-packages/fast/_speed.so",
                          "fast._speed", "/opt/venv/lib/python3.11/site-packages",
                          "/opt/venv/bin/python", "fast", "2.0.1"),
                   Load("ok"), Load("illegal", "died by an illegal instruction (SIGILL)"),
                   "linux/amd64/v3")
    seen = obs.native_modules(detail([foreign, fast], "qemu64", 2, 0.1))
    seen.detail["steps"] = steps  # as the engine side adds them (containers.image_layers)
    return seen


def test_a_native_module_finding_names_the_step_that_brought_each_module() -> None:
    """The modules that fail are files like any other: each is named with the Dockerfile
    step that brought it, and the findings carry the steps for report.json."""
    from harness.core.answers import details
    from harness.core.answers.origins import Step
    seen = _native_loads([])
    assert details.files_named("native-modules", seen.detail) == (
        "/app/node_modules/somepkg/build/Release/addon.node",
        "/opt/venv/lib/python3.11/site-packages/fast/_speed.so")
    addon = Step("/app/node_modules/somepkg/build/Release/addon.node", "sha256:" + "3" * 64,
                 "COPY --from=modules /node_modules /app/node_modules", 14, "Dockerfile")
    fast = Step("/opt/venv/lib/python3.11/site-packages/fast/_speed.so", "sha256:" + "4" * 64,
                "RUN /bin/sh -c pip install fast # buildkit")
    got = judge(parse_platform("linux/amd64"), [_native_loads([addon.to_dict(),
                                                               fast.to_dict()])],
                "amd64", NATIVE)
    cannot, later = got.for_source("native-modules")
    assert ("somepkg 1.2.3 (somepkg/build/Release/addon.node, /app/node_modules/somepkg/build/"
            "Release/addon.node, from Dockerfile:14 COPY --from=modules /node_modules "
            "/app/node_modules): wrong ELF class") in cannot.message
    assert cannot.steps == (addon,)
    assert ("fast 2.0.1 (fast._speed, /opt/venv/lib/python3.11/site-packages/fast/_speed.so, "
            "from layer 444444444444 RUN /bin/sh -c pip install fast # buildkit): died by an "
            "illegal instruction (SIGILL)") in later.message
    assert later.steps == (fast,) and later.to_dict()["steps"][0]["path"] == fast.path
    # Without steps, what the findings always said.
    plain = judge(parse_platform("linux/amd64"), [seen], "amd64", NATIVE)
    assert [f.steps for f in plain.findings] == [(), ()]
    assert "addon.node): wrong ELF class" in plain.findings[0].message


# -- the verdict is decided in one module, and findings are told by cause and kind -----------

HARNESS = Path(__file__).resolve().parents[2] / "harness"
JUDGE = "core/judging/verdicts.py"
# outcomes defines the primitives the judging module builds every verdict from.
PRIMITIVES = {"worst", "exit_status"}
# The verdict a report claims, read back as it is; judge_platforms judges it again.
READ_BACK = {("core/reporting/report.py", "from_dict")}
TEXT_FIELDS = {"fix", "message"}


@functools.cache
def _modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(HARNESS)): ast.parse(p.read_text())
            for p in sorted(HARNESS.rglob("*.py"))}


def _functions(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node, by the name of the function it is in ("" at module level)."""
    where: dict[ast.AST, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                where.setdefault(node, fn.name)
    return where


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def verdicts_decided(path: str, tree: ast.Module) -> list[str]:
    """What in the module ``path`` (under harness/) decides a verdict itself: a verdict
    assigned (``r.verdict = ...``, ``report["verdict"] = ...``), outcomes' primitives called,
    a result or judgement made with a verdict of its own."""
    if path == JUDGE:
        return []
    inside = _functions(tree)
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for t in (target.elts if isinstance(target, ast.Tuple) else [target]):
                if isinstance(t, ast.Attribute) and t.attr == "verdict":
                    found.append(f"line {t.lineno}: assigns .verdict")
                if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and \
                        t.slice.value == "verdict":
                    found.append(f"line {t.lineno}: assigns [\"verdict\"]")
        if not isinstance(node, ast.Call):
            continue
        called = _name(node.func)
        if called in PRIMITIVES and path != "core/outcomes.py":
            found.append(f"line {node.lineno}: calls {called}()")
        if called in ("PlatformResult", "Judgement") and (path, inside.get(node)) not in \
                READ_BACK and (len(node.args) > 1 or
                               any(k.arg == "verdict" for k in node.keywords)):
            found.append(f"line {node.lineno}: makes a {called} with a verdict of its own")
    return found


def _said(node: ast.AST) -> str:
    """The finding's words ``node`` reads: ``x.fix``, ``x["message"]``, ``x.get("fix")``,
    or a constant of them (``INTERRUPTED_FIX``, ``sameness.FIX``); "" for anything else."""
    if isinstance(node, ast.Attribute) and node.attr in TEXT_FIELDS:
        return f".{node.attr}"
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
            node.slice.value in TEXT_FIELDS:
        return f'["{node.slice.value}"]'
    if isinstance(node, ast.Call) and _name(node.func) == "get" and node.args and \
            isinstance(node.args[0], ast.Constant) and node.args[0].value in TEXT_FIELDS:
        return f'.get("{node.args[0].value}")'
    name = _name(node)
    if name.isupper() and (name == "FIX" or name.endswith(("_FIX", "_MESSAGE"))):
        return name
    return ""


def findings_told_by_text(tree: ast.Module) -> list[str]:
    """Where a module tells findings apart by their words: a fix or message compared
    (``==``, ``!=``, ``in``), or searched (``startswith``, ``endswith``, ``find``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                if said := _said(side):
                    found.append(f"line {node.lineno}: compares {said}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("startswith", "endswith", "find", "index") and \
                (said := _said(node.func.value)):
            found.append(f"line {node.lineno}: searches {said}")
    return found


@pytest.mark.parametrize("path", sorted(_modules()))
def test_no_module_but_the_judging_one_decides_a_verdict(path: str) -> None:
    found = verdicts_decided(path, _modules()[path])
    assert not found, f"harness/{path} decides a verdict (call harness.core.judging.verdicts): " \
        f"{'; '.join(found)}"


@pytest.mark.parametrize("planted", [
    "def f(r):\n    r.verdict = Verdict.PASS\n",
    "def f(r, b):\n    r.findings, r.verdict = [b], b.verdict\n",
    "def f(report):\n    report['verdict'] = 'pass'\n",
    "def f(r):\n    return worst([r.verdict, Verdict.FAIL])\n",
    "def f(k):\n    return outcomes.exit_status(k, 'warn')\n",
    "def f(name, finding):\n    return PlatformResult(name, Verdict.ERROR, [finding])\n",
    "def f(found):\n    return Judgement(verdict=Verdict.PASS, findings=found)\n",
])
def test_the_one_module_check_catches_a_verdict_decided_elsewhere(planted: str) -> None:
    """Known bad: each of these, as they stood in pipeline, report and results before."""
    assert verdicts_decided("containers/pipeline.py", ast.parse(planted))
    assert not verdicts_decided(JUDGE, ast.parse(planted))


def test_no_finding_is_told_by_its_words() -> None:
    found = {path: said for path, tree in _modules().items()
             if (said := findings_told_by_text(tree))}
    assert not found, f"findings told apart by their fix or message, not cause/kind: {found}"


@pytest.mark.parametrize("planted", [
    "any(f.fix == INTERRUPTED_FIX for f in r.findings)\n",
    "[f for f in e['findings'] if f['fix'] == sameness.FIX]\n",
    "'interrupted' in f.message\n",
    "f.get('message', '').startswith('the run was')\n",
    "f.message != other.message\n",
])
def test_the_words_check_catches_a_finding_told_by_its_text(planted: str) -> None:
    """Known bad: how results.py and report.py told findings apart before (issue 37)."""
    assert findings_told_by_text(ast.parse(planted))


def test_a_finding_told_by_its_cause_or_kind_passes_the_words_check() -> None:
    assert not findings_told_by_text(ast.parse(
        "[f for f in r.findings if f.cause == sameness.CAUSE or f.kind is Kind.ERROR]\n"))
