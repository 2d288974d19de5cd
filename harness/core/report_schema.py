"""The JSON Schema of report.json (``multiarch-harness report --schema`` prints it).

Every report the harness reads back (``multiarch-harness report``, ``publish`` adding its
phases) is validated against it first: a report of the wrong shape is bad input naming the
file and the field, never a traceback and never "All 0 platforms passed". Fields are only
ever added (``schema`` stays 1); objects the harness reads back field by field list their
fields, so a report it could not read is refused as a whole. Pure: data only.
"""

from __future__ import annotations

from typing import Any

from harness.core.outcomes import Exit, Kind, RunKind, Verdict

_STRING_OR_NULL = {"type": ["string", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
         "description": "ISO 8601, UTC"}
_PLATFORM = {"type": "string", "pattern": r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$",
             "description": "os/arch[/variant], as linux/arm/v7"}


def _closed(properties: dict[str, Any], required: tuple[str, ...] = (),
            description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(required), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


FINDING = _closed({
    "source": {"type": "string"},
    "kind": {"enum": [str(k) for k in Kind]},
    "message": {"type": "string"},
    "fix": {"type": "string"},
}, ("source", "kind", "message"), "one thing found, with its fix")

OBSERVED = _closed({
    "raw": _STRING_OR_NULL,
    "fits": {"type": "array", "items": {"type": "string"}},
    "value": _STRING_OR_NULL,
    "error": _STRING_OR_NULL,
    "detail": {"type": "object"},
    "kind": _STRING_OR_NULL,
    "fix": _STRING_OR_NULL,
}, (), "what one source answered")

PHASE = _closed({
    "name": {"type": "string"},
    "start": _TIME,
    "end": _TIME,
    "label": {"type": "string"},
}, ("name", "start", "end"), "a span of the platform's time")

PLATFORM = {
    "type": "object",
    "required": ["platform", "verdict", "findings", "observed"],
    "properties": {
        "platform": _PLATFORM,
        "verdict": {"enum": [str(v) for v in Verdict]},
        "findings": {"type": "array", "items": FINDING},
        "observed": {"type": "object", "additionalProperties": OBSERVED},
        "image": _closed({k: _STRING_OR_NULL for k in ("id", "tag", "base", "ref", "digest")}),
        "build": _closed({"ok": {"type": "boolean"}, "builder": _STRING_OR_NULL,
                          "seconds": _NUMBER_OR_NULL, "log": _STRING_OR_NULL,
                          "bases": {"type": ["object", "null"],
                                    "additionalProperties": {"type": "string"}}}),
        "run": _closed({"kind": {"enum": [str(k) for k in RunKind]},
                        **{k: _STRING_OR_NULL for k in ("handler", "interpreter", "flags",
                                                        "qemu_version")}}),
        "engine": {"oneOf": [{"type": "null"}, _closed(
            {"url": {"type": "string"}, "arch": _STRING_OR_NULL,
             "version": _STRING_OR_NULL}, ("url",))]},
        "probe_seconds": _NUMBER_OR_NULL,
        "hello_seconds": _NUMBER_OR_NULL,
        "audit_seconds": _NUMBER_OR_NULL,
        "probe_log": _STRING_OR_NULL,
        "phases": {"type": "array", "items": PHASE},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://multiarch-harness.invalid/report.schema.json",
    "title": "multiarch-harness report.json",
    "type": "object",
    "required": ["schema", "verdict", "exit_status", "quirk_policy", "host", "platforms"],
    "properties": {
        "schema": {"const": 1, "description": "1; fields are only ever added"},
        "verdict": {"enum": [str(v) for v in Verdict],
                    "description": "the worst verdict of all platforms"},
        "exit_status": {"enum": [int(e) for e in Exit],
                        "description": "what the run exited with"},
        "quirk_policy": {"enum": ["warn", "fail"]},
        "host": {"type": "object", "description": "the engine host of the run"},
        "platforms": {"type": "array", "minItems": 1, "items": PLATFORM,
                      "description": "one entry per platform, sorted by name"},
        "index": {"type": "object", "description": "what a checked reference resolved to"},
        "run": _closed({"start": _TIME, "end": _TIME}, ("start", "end")),
        "hosts": {"type": "object", "description": "each platform's host (merged reports)"},
        "parity": {"type": "object", "description": "the package databases compared across "
                   "platforms: platforms, packages, missing_count, missing[] (package, on), "
                   "versions_count, versions[] (package, versions by platform)"},
    },
}
