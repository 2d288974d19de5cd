"""The shapes of the registry documents the harness reads: an image manifest, an index and an
image config, as JSON Schemas of the fields the OCI image-spec requires (and Docker's
schema 2 has too) and the harness reads. A document of another shape is the registry's fault,
said as one reason, never a KeyError further on. Pure: no I/O.
"""

from __future__ import annotations

import jsonschema

from harness.core.jsondoc import JSON

# The image-spec's digest grammar (descriptor.md): a digest the harness puts in a URL is
# never a path of its own (``../``).
DIGEST = r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
# A JSON Schema is JSON: an object of any fields.
Schema = JSON
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
DESCRIPTOR: Schema = {
    "type": "object", "required": ["mediaType", "digest", "size"],
    "properties": {"mediaType": {"type": "string"},
                   "digest": {"type": "string", "pattern": DIGEST},
                   "size": {"type": "integer", "minimum": 0},
                   "annotations": _STRINGS},
}
PLATFORM: Schema = {
    "type": "object", "required": ["architecture", "os"],
    "properties": {"architecture": {"type": "string"}, "os": {"type": "string"},
                   "variant": {"type": "string"}},
}
MANIFEST: Schema = {
    "type": "object", "required": ["config", "layers"],
    "properties": {"config": DESCRIPTOR, "layers": {"type": "array", "items": DESCRIPTOR},
                   "annotations": _STRINGS},
}
INDEX: Schema = {
    "type": "object", "required": ["manifests"],
    "properties": {"manifests": {"type": "array", "items": {
        "allOf": [DESCRIPTOR], "properties": {"platform": PLATFORM}}},
        "annotations": _STRINGS},
}
CONFIG: Schema = PLATFORM  # an image config: its platform's fields are required

_VALIDATORS = {name: jsonschema.Draft202012Validator(schema) for name, schema in
               (("an image index", INDEX), ("an image manifest", MANIFEST),
                ("an image config", CONFIG))}


def shape_error(doc: object, kind: str) -> str | None:
    """Why ``doc`` is not of ``kind`` ("an image index", "an image manifest", "an image
    config"), in one line naming where (bounded by the caller's sink); None if it is."""
    error = jsonschema.exceptions.best_match(_VALIDATORS[kind].iter_errors(doc))
    if error is None:
        return None
    return f"{kind}, at {error.json_path}: {error.message}"
