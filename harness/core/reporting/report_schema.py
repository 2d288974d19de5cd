"""The JSON Schema of report.json (``multiarch-harness report --schema`` prints it).

Every report the harness reads back (``multiarch-harness report``, ``publish`` adding its
phases) is validated against it first: a report of the wrong shape is bad input naming the
file and the field, never a traceback and never "All 0 platforms passed". Fields are only
ever added (``schema`` stays 1); objects the harness reads back field by field list their
fields, so a report it could not read is refused as a whole. Pure: data only.
"""

from __future__ import annotations

from harness.core.jsondoc import JSON
from harness.core.outcomes import Exit, Kind, RunKind, Verdict
from harness.core.platforms.engine_kind import KIND_NAMES

# A JSON Schema is JSON: an object of any fields.
Schema = JSON
_STRING_OR_NULL = {"type": ["string", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}


def _about(schema: Schema, description: str) -> Schema:
    """``schema`` with what the field is (the report.json reference page says it)."""
    return {**schema, "description": description}
_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
         "description": "ISO 8601, UTC"}
_PLATFORM = {"type": "string", "pattern": r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$",
             "description": "os/arch[/variant], as linux/arm/v7"}


def _closed(properties: Schema, required: tuple[str, ...] = (),
            description: str = "") -> Schema:
    schema: Schema = {"type": "object", "properties": properties,
                              "required": list(required), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


FINDING = _closed({
    "source": _about({"type": "string"}, "the source it is about (dpkg, elf-audit, "
                     "check:NAME, build, ...)"),
    "kind": _about({"enum": [str(k) for k in Kind]}, "what it says; the kind decides the "
                   "verdict and the exit status (see Troubleshooting)"),
    "message": _about({"type": "string"}, "what was found, escaped and bounded"),
    "fix": _about({"type": "string"}, "what to do about it"),
    "cause": _about({"type": "string"}, "why, by a stable name: the cause of the "
                    "troubleshooting table where one decided it (interrupted, "
                    "build-cancelled, foreign-binary, ...), else its maker's (not-same: a "
                    "`same = true` check the platforms answered differently); tell findings "
                    "apart by it, not by their text; absent in reports of older versions"),
    "steps": _about({"type": "array", "items": _closed({
        "path": _about({"type": "string"}, "the file, as in the image"),
        "layer": _about({"type": "string"}, "the diff ID (sha256:...) of the last layer "
                        "that added or changed it; empty where the history does not tell"),
        "instruction": _about({"type": "string"}, "the instruction that made that layer: "
                              "the Dockerfile's as written where the harness built the "
                              "image, else the image history's created_by (check REF)"),
        "line": _about({"type": "integer"}, "the instruction's first line in file"),
        "file": _about({"type": "string"}, "the Dockerfile, as given")},
        ("path", "layer", "instruction"))},
        "the build step that brought each file the message names (file findings only)"),
}, ("source", "kind", "message"), "one thing found, with its fix")

OBSERVED = _closed({
    "raw": _about(_STRING_OR_NULL, "the answer as given (at most 4 KiB; the whole in the "
                  "probe log), null when the tool is absent"),
    "fits": _about({"type": "array", "items": {"type": "string"}},
                   "the platforms the answer is consistent with"),
    "value": _about(_STRING_OR_NULL, "the part of the answer that was mapped"),
    "error": _about(_STRING_OR_NULL, "why there is no answer"),
    "detail": _about({"type": "object"}, "what else the source found: ELF path and machine, "
                     "rustc release, the audits' counts and lists, the baseline CPU's runs, "
                     "a declared check's command and pattern"),
    "kind": _about(_STRING_OR_NULL, "the finding kind that error calls for; "
                   "not-applicable (raw and error null): the source does not apply to the "
                   "platform (the CPU-level isa audit on arm64 or 386), detail.reason says "
                   "why; not an absent tool"),
    "fix": _about(_STRING_OR_NULL, "the fix that error calls for"),
    "cause": _about({"type": "string"}, "the cause of error, as the finding's cause; absent "
                    "where none was named"),
}, (), "what one source answered")

PHASE = _closed({
    "name": _about({"type": "string"}, "queue (waiting for a build slot), base, pull, "
                   "build, step, cached (a step taken from the build cache), cache (the "
                   "build cache written), wait (for a probe slot), probe, hello, audit, "
                   "baseline or publish; hello, audit and baseline lie within probe"),
    "start": _about(_TIME, "ISO 8601, UTC"),
    "end": _about(_TIME, "ISO 8601, UTC"),
    "label": _about({"type": "string"}, "a step's name as the builder gives it ([2/4] RUN "
                    "...); for publish, the registry"),
}, ("name", "start", "end"), "a span of the platform's time")

PLATFORM = {
    "type": "object",
    "required": ["platform", "verdict", "findings", "observed"],
    "properties": {
        "target": _about({"type": "string"}, "the Bake target it is a platform of (--bake); "
                         "absent without --bake"),
        "platform": _about(_PLATFORM, "the platform, as linux/arm/v7"),
        "verdict": _about({"enum": [str(v) for v in Verdict]}, "the platform's verdict: the "
                          "worst of its findings'"),
        "findings": _about({"type": "array", "items": FINDING}, "what was found"),
        "observed": _about({"type": "object", "additionalProperties": OBSERVED},
                           "each source's answer, by source: config, dpkg, apk, rpm, uname, "
                           "getconf, sh-elf, rustc, rustc-elf, cargo, hello, hello-elf, "
                           "elf-audit, linkage, isa, native-modules, packages, baseline-cpu, "
                           "check:NAME, "
                           "pytest:FILE::TEST"),
        "image": _about(_closed({
            "id": _about(_STRING_OR_NULL, "the image ID"),
            "tag": _about(_STRING_OR_NULL, "the platform's own local tag "
                          "(harness/rust:linux-arm-v7)"),
            "base": _about(_STRING_OR_NULL, "the base image it was built from"),
            "ref": _about(_STRING_OR_NULL, "the reference checked (check REF)"),
            "digest": _about(_STRING_OR_NULL, "the platform's manifest digest in that "
                             "reference's index")}), "the image checked"),
        "build": _about(_closed({
            "ok": _about({"type": "boolean"}, "whether it built"),
            "builder": _about(_STRING_OR_NULL, "buildx, classic, or pull (check REF)"),
            "seconds": _about(_NUMBER_OR_NULL, "how long the build took"),
            "log": _about(_STRING_OR_NULL, "the build's log"),
            "bases": _about({"type": ["object", "null"],
                             "additionalProperties": {"type": "string"}},
                            "each Debian FROM image and the harness's base that served it "
                            "(named build contexts)"),
            "dockerfile": _about(_STRING_OR_NULL, "the Dockerfile built"),
            "dockerfile_sha256": _about(_STRING_OR_NULL, "its SHA-256, hex"),
            "build_args": _about({"type": ["object", "null"],
                                  "additionalProperties": {"type": "string"}},
                                 "the build arguments passed, BASE_IMAGE as served")}),
            "the build"),
        "run": _about(_closed({
            "kind": _about({"enum": [str(k) for k in RunKind]}, "how the platform runs on "
                           "the engine's host"),
            **{k: _about(_STRING_OR_NULL, f"the QEMU handler's {k.replace('_', ' ')}")
               for k in ("handler", "interpreter", "flags", "qemu_version")}}),
            "how the platform ran"),
        "engine": _about({"oneOf": [{"type": "null"}, _closed(
            {"url": _about({"type": "string"}, "the engine's address, credentials redacted"),
             "arch": _about(_STRING_OR_NULL, "its host's architecture"),
             "version": _about(_STRING_OR_NULL, "its version"),
             "kind": _about({"enum": list(KIND_NAMES)}, "Docker's engine or Podman's "
                            "compatible service")}, ("url",))]},
            "the engine the platform was built and checked on"),
        "probe_seconds": _about(_NUMBER_OR_NULL, "the probes' time, without the hello world, "
                                "the audit and the baseline-CPU run"),
        "hello_seconds": _about(_NUMBER_OR_NULL, "the hello world's compile and run"),
        "audit_seconds": _about(_NUMBER_OR_NULL, "the audit of every ELF file"),
        "probe_log": _about(_STRING_OR_NULL, "the probes' log: every command and its whole "
                            "output"),
        "phases": _about({"type": "array", "items": PHASE}, "the platform's spans of time, "
                         "for the timeline"),
    },
}

# Open objects: what a host says may grow, and an older report's is read as it is.
HOST = {"type": "object", "description": "the chosen engine's host", "properties": {
    "arch": _about(_STRING_OR_NULL, "its architecture"),
    "engine_version": _about(_STRING_OR_NULL, "the engine's version"),
    "api_version": _about(_STRING_OR_NULL, "the engine's API version"),
    "buildx": _about(_STRING_OR_NULL, "buildx's version, null without buildx"),
    "builder": _about(_STRING_OR_NULL, "the builder chosen: buildx or classic")}}

INDEX = {"type": "object", "required": ["ref"],
         "description": "what a checked reference resolved to", "properties": {
             "ref": _about({"type": "string"}, "the reference checked"),
             "digest": _about(_STRING_OR_NULL, "the index's digest"),
             "media_type": _about(_STRING_OR_NULL, "the index's media type"),
             "entries": _about({"type": "object", "additionalProperties": {"type": "string"}},
                               "each platform's manifest digest"),
             "findings": _about({"type": "array", "items": FINDING},
                                "what is wrong with the index"),
             "attested": _about({"type": "object", "additionalProperties": {
                 "type": "object"}}, "each platform's verification statement, where its "
                 "publisher attested one: its verdict and harness version")}}

SCHEMA: Schema = {
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
        "quirk_policy": {"enum": ["warn", "fail"], "description": "whether a quirk warns or "
                         "fails the run"},
        "host": HOST,
        "platforms": {"type": "array", "minItems": 1, "items": PLATFORM,
                      "description": "one entry per platform, sorted by name"},
        "index": INDEX,
        "run": _about(_closed({"start": _about(_TIME, "ISO 8601, UTC"),
                               "end": _about(_TIME, "ISO 8601, UTC"),
                               "id": _about({"type": "string"}, "the run's id, the "
                                            "dev.harness.run label of its containers")},
                              ("start", "end")),
                      "when the whole run started and ended"),
        "hosts": {"type": "object", "additionalProperties": HOST,
                  "description": "each platform's host (merged reports)"},
        "parity": {"type": "object", "description": "the package databases compared across "
                   "platforms: platforms, packages, missing_count, missing[] (package, on: "
                   "packages installed by hand that are not on every platform), "
                   "versions_count, versions[] (package, versions by platform), manual_count "
                   "(packages installed by hand), unmarked (platforms without marks of what "
                   "was installed by hand: all of their packages compared), "
                   "dependencies_count, dependencies[] (package, on: pulled in as "
                   "dependencies on some platforms only; not counted)"},
        "target_parity": {"type": "object", "additionalProperties": {"type": "object"},
                          "description": "with Bake targets: each target's platforms "
                          "compared as parity is (never one target's image with another's)"},
    },
}

# A kept answer (harness.machine.kept): the observations of one image ID as they were
# asked, with a checksum of their own content (the SHA-256 of their canonical JSON,
# harness.core.jsondoc.canonical), so that an entry cut short or changed is asked again.
KEPT_OBSERVATION = {
    **OBSERVED,
    "properties": {
        **OBSERVED["properties"],
        "source": {"type": "string", "minLength": 1},
        "kind": {"enum": [None, *(str(k) for k in Kind)]},  # judged as a finding's kind
        "output": _STRING_OR_NULL,  # the whole answer, for judging in the run that reads it
    },
    "required": ["source"],
}

KEPT: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_closed({
        "kept": {"const": 1},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "observations": {"type": "array", "minItems": 1, "items": KEPT_OBSERVATION},
    }, ("kept", "sha256", "observations")),
}
