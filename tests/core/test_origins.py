"""Which step brought a file: Dockerfile lines, history matched to instructions, and the last
layer that holds a path (on tar headers made here)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers import origins
from harness.core.answers.origins import Instruction, Step

# What BuildKit wrote for this Dockerfile (docker 20.10, buildx 0.13, seen on this machine):
# the base's two entries, then one per instruction after each FROM.
DOCKERFILE = """\
# syntax=docker/dockerfile:1
# A comment before everything.
ARG BASE=debian:bookworm-slim
FROM ${BASE} AS one
COPY a.txt /a.txt

FROM one
ARG V=1
ENV X=y
# a comment between instructions
COPY --chown=0:0 a.txt \\
     # a comment inside the continuation
     /b.txt
COPY --from=one /a.txt /c.txt
WORKDIR /w
ADD a.txt /d.txt
"""
HISTORY = [
    {"created_by": "COPY prog /prog # buildkit"},
    {"created_by": 'ENTRYPOINT ["/prog"]', "empty_layer": True},
    {"created_by": "COPY a.txt /a.txt # buildkit"},
    {"created_by": "ARG V=1", "empty_layer": True},
    {"created_by": "ENV X=y", "empty_layer": True},
    {"created_by": "COPY a.txt /b.txt # buildkit"},
    {"created_by": "COPY /a.txt /c.txt # buildkit"},
    {"created_by": "WORKDIR /w"},
    {"created_by": "ADD a.txt /d.txt # buildkit"},
]
DIFF_IDS = [f"sha256:{n:064x}" for n in range(6)]


def test_instructions_carry_their_first_line_with_continuations_joined() -> None:
    got = [(i.line, i.keyword, i.text) for i in origins.instructions(DOCKERFILE)]
    assert got == [
        (3, "ARG", "ARG BASE=debian:bookworm-slim"),
        (4, "FROM", "FROM ${BASE} AS one"),
        (5, "COPY", "COPY a.txt /a.txt"),
        (7, "FROM", "FROM one"),
        (8, "ARG", "ARG V=1"),
        (9, "ENV", "ENV X=y"),
        (11, "COPY", "COPY --chown=0:0 a.txt /b.txt"),
        (14, "COPY", "COPY --from=one /a.txt /c.txt"),
        (15, "WORKDIR", "WORKDIR /w"),
        (16, "ADD", "ADD a.txt /d.txt"),
    ]


def test_the_escape_directive_and_heredocs_are_read_as_buildkit_reads_them() -> None:
    text = ("# escape=`\nFROM scratch\nRUN echo a `\n    b\nRUN <<EOF\nFROM not-a-stage\n"
            "EOF\nCOPY <<-END /x\n\tCOPY inside\n\tEND\nUSER 1\n")
    got = [(i.line, i.text) for i in origins.instructions(text)]
    assert got == [(2, "FROM scratch"), (3, "RUN echo a b"), (5, "RUN <<EOF"),
                   (8, "COPY <<-END /x"), (11, "USER 1")]


@given(st.lists(st.sampled_from(["RUN a", "COPY x /y", "", "# c", "ENV A=b"]), max_size=20))
def test_every_instruction_is_found_at_its_own_line(lines: list[str]) -> None:
    text = "\n".join(["FROM base", *lines])
    got = origins.instructions(text)
    expected = [(n + 1, line) for n, line in enumerate(["FROM base", *lines])
                if line and not line.startswith("#")]
    assert [(i.line, i.text) for i in got] == expected


def test_the_chain_of_the_built_stage_runs_through_the_stages_it_starts_from() -> None:
    built = origins.chain(DOCKERFILE)
    assert built is not None
    start, body = built
    assert (start.line, start.text) == (4, "FROM ${BASE} AS one")
    assert [i.line for i in body] == [5, 8, 9, 11, 14, 15, 16]
    target = origins.chain(DOCKERFILE, "one")
    assert target is not None and [i.line for i in target[1]] == [5]
    assert origins.chain(DOCKERFILE, "nowhere") is None


def test_history_entries_are_read_from_either_builder() -> None:
    assert origins.history_keyword("COPY a /b # buildkit") == ("COPY", "a /b")
    assert origins.history_keyword("RUN /bin/sh -c apt-get update # buildkit")[0] == "RUN"
    assert origins.history_keyword("/bin/sh -c #(nop) COPY file:0ab in /usr/bin/x ") == \
        ("COPY", "file:0ab in /usr/bin/x")
    assert origins.history_keyword("/bin/sh -c apt-get update")[0] == "RUN"
    assert origins.history_keyword("|2 A=1 B=2 /bin/sh -c make")[0] == "RUN"
    assert origins.history_keyword("/bin/sh -c #(nop)  CMD [\"sh\"]")[0] == "CMD"


def test_history_matches_the_instructions_from_the_end_and_the_rest_is_the_base() -> None:
    built = origins.chain(DOCKERFILE)
    assert built is not None
    matched = origins.match([h["created_by"] for h in HISTORY], built[1])
    assert [m.line if m else None for m in matched] == [None, None, 5, 8, 9, 11, 14, 15, 16]


def test_an_entry_no_instruction_explains_moves_nothing() -> None:
    body = [Instruction(2, "COPY", "COPY a /a"), Instruction(3, "RUN", "RUN make")]
    matched = origins.match(["COPY a /a # buildkit", "LABEL x=y", "RUN /bin/sh -c make"],
                            body)
    assert [m.line if m else None for m in matched] == [2, None, 3]


def test_each_layer_is_named_by_its_instruction_and_line() -> None:
    built = origins.chain(DOCKERFILE)
    steps = [origins.step_of("/f", n, DIFF_IDS, HISTORY, built, "Dockerfile")
             for n in range(len(DIFF_IDS))]
    assert [s.label() for s in steps] == [
        "Dockerfile:4 FROM ${BASE} AS one", "Dockerfile:5 COPY a.txt /a.txt",
        "Dockerfile:11 COPY --chown=0:0 a.txt /b.txt",
        "Dockerfile:14 COPY --from=one /a.txt /c.txt", "Dockerfile:15 WORKDIR /w",
        "Dockerfile:16 ADD a.txt /d.txt"]
    assert steps[2].layer == DIFF_IDS[2] and steps[2].line == 11


def test_without_a_dockerfile_the_history_names_the_step() -> None:
    step = origins.step_of("/f", 2, DIFF_IDS, HISTORY, None, None)
    assert step.instruction == "COPY a.txt /b.txt # buildkit" and step.line is None
    assert step.label() == f"layer {DIFF_IDS[2][7:19]} COPY a.txt /b.txt # buildkit"
    # A history that does not follow the layers names no instruction at all.
    assert origins.step_of("/f", 0, DIFF_IDS[:2], HISTORY, None, None).instruction == ""


def test_a_step_is_bounded_and_escaped_and_survives_report_json() -> None:
    step = Step("/x", "sha256:" + "a" * 64, "RUN echo \x1b[31m" + "y" * 500, 3, "Dockerfile")
    label = step.label()
    assert "\x1b" not in label and len(label) < 200
    assert Step.from_dict(step.to_dict()) == step


def _layer(tmp_path: Path, name: str, members: list[str]) -> list[str]:
    """A layer tar with ``members`` (directories end in /), and its header names as read."""
    path = tmp_path / f"{name}.tar"
    with tarfile.open(path, "w") as tar:
        for member in members:
            info = tarfile.TarInfo(member.rstrip("/"))
            info.type = tarfile.DIRTYPE if member.endswith("/") else tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(b""))
    with tarfile.open(path) as tar:
        return [m.name for m in tar]


def test_the_last_layer_that_holds_a_path_brought_it(tmp_path: Path) -> None:
    wanted = {"/usr/bin/tool", "/app/node_modules/x/x.node", "/opt/gone", "/etc/keep"}
    layers = [
        _layer(tmp_path, "base", ["usr/", "usr/bin/", "usr/bin/tool", "etc/", "etc/keep",
                                  "opt/", "opt/gone"]),
        _layer(tmp_path, "copy", ["app/", "app/node_modules/", "app/node_modules/x/",
                                  "app/node_modules/x/x.node"]),
        _layer(tmp_path, "rebuild", ["usr/", "usr/bin/", "usr/bin/tool", "opt/",
                                     "opt/.wh.gone"]),
        _layer(tmp_path, "again", ["app/", "app/.wh..wh..opq", "app/node_modules/",
                                   "app/node_modules/x/", "app/node_modules/x/x.node"]),
    ]
    got = origins.last_layers(origins.summarise(names, wanted) for names in layers)
    assert got == {"/usr/bin/tool": 2, "/app/node_modules/x/x.node": 3, "/etc/keep": 0}


def test_an_opaque_directory_hides_what_is_below_it_from_lower_layers(tmp_path: Path) -> None:
    wanted = {"/app/lib.so", "/appx/lib.so"}
    layers = [_layer(tmp_path, "a", ["app/lib.so", "appx/lib.so"]),
              _layer(tmp_path, "b", ["app/", "app/.wh..wh..opq"])]
    got = origins.last_layers(origins.summarise(names, wanted) for names in layers)
    assert got == {"/appx/lib.so": 0}


def test_an_item_names_its_path_whatever_follows_it() -> None:
    paths = {"/usr/bin/tool", "/opt/a: b/c", "/opt/a"}
    assert origins.path_of("/usr/bin/tool (ELF 64-bit LSB x86-64)", paths) == "/usr/bin/tool"
    assert origins.path_of("/opt/a: b/c: needs libx.so.1", paths) == "/opt/a: b/c"
    assert origins.path_of("/opt/a: interpreter /lib/ld.so", paths) == "/opt/a"
    assert origins.path_of("/elsewhere (x)", paths) is None


def test_the_history_api_gives_the_layers_where_its_sizes_and_keywords_tell() -> None:
    entries = [("/bin/sh -c #(nop) ADD file:1 in / ", 74_000_000),
               ('/bin/sh -c #(nop)  CMD ["bash"]', 0),
               ("/bin/sh -c #(nop) WORKDIR /w", 0),
               ("RUN /bin/sh -c touch /empty # buildkit", 0),  # an empty file: a layer of 0 B
               ("WORKDIR /app", 0), ("ENV A=b", 0), ("COPY x /x # buildkit", 12)]
    history = origins.layered_history(entries, 4)
    assert history is not None
    assert [not h["empty_layer"] for h in history] == [True, False, False, True, True, False,
                                                       True]
    # A RUN that changed nothing has no layer under BuildKit: the sizes cannot tell.
    assert origins.layered_history(entries, 3) is None
