"""Text from outside made inert for the place it goes: one function per sink.

Everything an image, an engine, a registry or a config says is data. Before it reaches a sink
it goes through that sink's function here, and nowhere else is text escaped for a sink:

``terminal``  a console line or a pytest message (and so junit.xml, which pytest writes from
              them): every character that does not print is shown as an escape (``\\x1b``,
              ``\\n``, ``\\u202e``), so data never moves the cursor, never starts a line of its
              own (a GitHub workflow command is a line that starts with ``::``) and never
              reorders what follows it;
``markdown``  text in report.md and GitHub's step summary: Markdown and HTML characters
              escaped, one line; ``markdown_code`` a code span that no backtick ends early;
``html``      report.html: HTML-escaped (quotes too, so attributes are safe), controls
              shown as escapes;
``github``    the message of a workflow command (``::error title=…::MESSAGE``): ``%``, CR and
              LF escaped as GitHub documents, so data cannot end the command or start another;
``json_safe`` report.json: every string redacted (``json.dumps`` escapes the rest).

Each of them redacts credentials first (:func:`redact`): ``user:secret@host`` in a reference,
URL or engine address, whoever printed it (a user's argument, the docker SDK's own message).
Pure: no I/O.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

SECRET = "***"

# userinfo with a password, in a URL (scheme://user:pw@) or a bare reference (user:pw@host/…)
# at the start of a word. Not a digest: `repo:tag@sha256:…` names an image, it holds no secret.
# Linear on any text (megabytes of `(`, `a.` or `=a:` included): every repetition is bounded
# and possessive, and neither the user nor the secret can run past the characters that start
# a candidate, so no character is scanned from many starts.
_CREDENTIALS = re.compile(
    r"(?:(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]{0,30}+://)|(?P<edge>^|(?<=[\s'\"(=,\[<])))"
    r"(?P<user>[^\s/@:'\"<>(=,\[]{0,256}+):(?P<secret>[^\s/@'\"<>(=,\[]{1,256}+)@"
    r"(?![A-Za-z][A-Za-z0-9+._-]{0,30}:[0-9A-Fa-f]{32,})",
    re.MULTILINE,
)
# What can change how inline text renders: emphasis, code, links, strikethrough, HTML, table
# cells. (Line-start syntax such as `#` or `- ` cannot apply: data never starts a line.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~<>&])")


def redact(text: str) -> str:
    """``text`` with the password of every ``user:password@`` replaced by ``***``."""
    if "@" not in text:  # most text, and megabytes of an image's output, at memchr's speed
        return text
    return _CREDENTIALS.sub(
        lambda m: f"{m['scheme'] or ''}{m['user']}:{SECRET}@", text)


def _head(text: str, limit: int | None) -> str:
    """The part of ``text`` a sink bounded to ``limit`` can show, redacted: cut with room for
    a credential that straddles the limit, so that no half of one is left to show."""
    text = str(text)
    if limit is not None and len(text) > limit + 600:
        text = text[:limit + 600]
    return redact(text)


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str, keep: str = "") -> str:
    """Every character that does not print (C0 and C1 controls, DEL, new lines, format
    characters such as bidirectional overrides, separators, unassigned) shown as its escape;
    those in ``keep`` stay."""
    return "".join(c if c.isprintable() or c in keep else _escape(c) for c in text)


def bound(text: str, limit: int | None) -> str:
    """At most ``limit`` characters, the cut marked with ``…``."""
    if limit is None or len(text) <= limit:
        return text
    return text[:max(limit - 1, 0)] + "…"


def terminal(text: str, limit: int | None = None) -> str:
    """One line for a terminal (or a pytest message): redacted, non-printing characters
    escaped, at most ``limit`` characters."""
    return bound(visible(_head(text, limit)), limit)


def markdown(text: str, limit: int | None = None) -> str:
    """Inline Markdown text that renders as the characters given: no emphasis, link, HTML,
    heading or table cell boundary can come from it."""
    shown = bound(visible(_head(text, limit)), limit)
    return _MARKDOWN_SPECIAL.sub(lambda m: "&#" + str(ord(m[1])) + ";" if m[1] in "<>&|"
                                 else "\\" + m[1], shown)


def markdown_code(text: str, limit: int | None = None) -> str:
    """A Markdown code span holding ``text``: fenced with more backticks than it holds, and
    ``|`` escaped so that it cannot end a table cell (GitHub reads ``\\|`` there)."""
    shown = bound(visible(_head(text, limit)), limit).replace("|", "\\|")
    ticks = max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1
    fence = "`" * ticks
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown.strip() else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def html(text: str, limit: int | None = None, keep: str = "") -> str:
    """HTML text or attribute value: redacted, non-printing characters escaped (except those
    in ``keep``, such as the new lines of a ``<pre>``), ``<>&"'`` as entities."""
    return _html.escape(bound(visible(_head(text, limit), keep), limit), quote=True)


def github(text: str, limit: int | None = None) -> str:
    """The message of a GitHub workflow command: redacted, non-printing characters other
    than new lines escaped, then ``%``, CR and LF encoded as GitHub reads them."""
    shown = bound(visible(_head(text, limit), keep="\n"), limit)
    return shown.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (``title=``): also ``:`` and ``,`` encoded."""
    return github(text).replace(":", "%3A").replace(",", "%2C")


def json_safe(value: Any) -> Any:
    """``value`` (report.json's data) with every string in it redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def mermaid_name(text: str) -> str:
    """A task or section name of a Mermaid block inside Markdown: one line, no character that
    ends a name (``:``), starts a comment (``#``, ``%%``), separates (``;``) or could close the
    fence (a backtick), at most 48 characters."""
    shown = visible(redact(" ".join(str(text).split())))  # a line break is a space
    for char in ":#;`%":
        shown = shown.replace(char, " ")
    return " ".join(shown.split())[:48] or "?"
