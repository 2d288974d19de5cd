"""Every sink's renderer makes arbitrary text inert there (hypothesis), and redacts secrets.

The text is what an image, engine, registry or config may say: control characters, new
lines, bidirectional controls, HTML, Markdown, GitHub workflow commands, very long lines.
The assertions are what would go wrong in the sink if the text arrived raw.
"""

from __future__ import annotations

import html.parser
import re
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.core import sinks
from harness.core.reporting.github import annotation_lines
from harness.core.reporting.html_report import render_html
from harness.core.reporting.render import render_console, render_markdown
from harness.core.reporting.report import build_report
from harness.core.results.finding import Finding
from tests.factories import HOST, result

HOSTILE = [
    "x\n::error::all passed", "\x1b[2J\x1b[H\x07", "a\u202eevil", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "| new | row |\n| --- |", "**bold** _it_ [l](http://x)",
    "```\nfence", "%0A::warning::x", "\r\n::set-output name=x::y", "\u2028\u2029\x85",
    "`code` and ``more``", "user:hunter2@registry.example.com/app:1", "a" * 5000,
]
TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300),
                 st.text(alphabet=st.characters(codec="utf-8"), max_size=80))


def nonprinting(text: str) -> list[str]:
    return [c for c in text if not c.isprintable()]


def bidi(text: str) -> list[str]:
    return [c for c in text if unicodedata.bidirectional(c) in
            ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")]


@given(TEXT)
@example("\x1b]0;title\x07\n::error::x\u202e")
def test_terminal_text_is_one_printable_line(text: str) -> None:
    shown = sinks.terminal(text)
    assert not nonprinting(shown) and "\n" not in shown and not bidi(shown)
    assert len(sinks.terminal(text, 50)) <= 50


@given(TEXT)
def test_markdown_text_has_no_markup_of_its_own(text: str) -> None:
    shown = sinks.markdown(text)
    assert not nonprinting(shown)
    # Every Markdown or HTML character is escaped: none stands bare.
    assert not re.search(r"(?<!\\)[`*_\[\]~]", shown.replace("\\\\", ""))
    assert "<" not in shown and ">" not in shown and "|" not in shown


@given(TEXT)
def test_a_markdown_code_span_cannot_be_ended_early(text: str) -> None:
    span = sinks.markdown_code(text)
    fence = re.match(r"`+", span)
    assert fence is not None
    inner = span[len(fence[0]):-len(fence[0])]
    assert fence[0] not in inner and not nonprinting(span)
    assert "|" not in inner.replace("\\|", "")


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.data.append(data)


@given(TEXT)
def test_html_text_is_text_and_never_a_tag(text: str) -> None:
    shown = sinks.html(text, keep="\n")
    parser = _Collect()
    parser.feed(f'<p title="{sinks.html(text)}">{shown}</p>')
    assert parser.tags == ["p"]
    assert not [c for c in "".join(parser.data) if not c.isprintable() and c != "\n"]


@given(TEXT)
def test_a_github_command_message_stays_one_command(text: str) -> None:
    shown = sinks.github(text)
    assert "\n" not in shown and "\r" not in shown and not nonprinting(shown)
    assert "::" not in sinks.github_property(text)


@settings(max_examples=60, deadline=None)
@given(TEXT, TEXT)
def test_every_report_renderer_keeps_image_text_inert(message: str, value: str) -> None:
    """One finding and one answer of hostile text through every renderer of a report."""
    r = result("linux/arm64", "fail", [Finding("check:x", "mismatch", message, value)])
    r.observations[0].value = value
    r.observations[0].raw = message
    report = build_report([r], HOST, "warn")
    for line in render_console(report):
        assert not nonprinting(line)
    for line in annotation_lines(report):
        assert not nonprinting(line) and line.startswith("::error title=")
    markdown = render_markdown(report)
    ours = re.compile(r"^(#{3,4} |\| |\|---|- \*\*|Host |```|gantt|    |$)")
    assert all(ours.match(line) for line in markdown.splitlines()), markdown
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)  # code spans are text
    assert "<" not in outside_code.replace("```mermaid", "")
    page = _Collect()
    page.feed(render_html(report))
    assert "script" not in page.tags and "img" not in page.tags


def test_credentials_are_redacted_wherever_they_appear() -> None:
    cases = {
        "tcp://user:PW@host:1": "tcp://user:***@host:1",
        "check 'user:PW@host/repo:t' failed": "check 'user:***@host/repo:t' failed",
        "https://u:p%40ss@reg.example.com/v2/": "https://u:***@reg.example.com/v2/",
        "user:PW@127.0.0.1:5000/app": "user:***@127.0.0.1:5000/app",
    }
    for text, shown in cases.items():
        assert sinks.redact(text) == shown
        for sink in (sinks.terminal, sinks.markdown, sinks.html, sinks.github):
            assert "PW" not in sink(text) and "p%40ss" not in sink(text)
    # A digest is not a password: image references stay as they are.
    for ref in ("alpine:3@sha256:" + "a" * 64, "127.0.0.1:5000/app:1@sha256:" + "b" * 64,
                "ssh://me@host", "mail me@example.com"):
        assert sinks.redact(ref) == ref
    assert sinks.json_safe({"a": ["tcp://u:PW@h:1"], "n": 1}) == {"a": ["tcp://u:***@h:1"],
                                                                   "n": 1}
