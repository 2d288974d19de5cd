"""Signing with a key, through cosign: the index and every manifest it names, and each
platform's verification statement as a cosign attestation.

Offline and key-based (``--tlog-upload=false``): nothing goes to a transparency log, so it
works on a runner without Sigstore's services; ``cosign verify --key PUB
--insecure-ignore-tlog`` and ``cosign verify-attestation`` check it. The key's password is
cosign's own ``COSIGN_PASSWORD``, read from the environment by cosign: it is never on a
command line, in a log or in a report. cosign is a separate program (Debian's ``cosign``
package, in trixie) and is only needed with ``--sign``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.core import sinks
from harness.core.failures.errors import CannotCheck, UsageError
from harness.core.jsondoc import JSON
from harness.distribution.registry import is_loopback

TIMEOUT = 300.0  # seconds per cosign call: a registry that stops answering is not waited on
INSTALL = ("install cosign (Debian trixie's `cosign` package, or a release from "
           "github.com/sigstore/cosign), or publish without --sign")


class Signer:
    """cosign with one key, checked before anything is pushed: the program is there and the
    key opens with the password cosign is given."""

    def __init__(self, key: Path, host: str, insecure: bool = False) -> None:
        self.key = key
        program = shutil.which("cosign")
        if program is None:
            raise UsageError("--sign needs cosign, which is not installed", INSTALL)
        self.program = program
        if not key.is_file():
            raise UsageError(f"--sign {key}: no such key file",
                             "pass a private key made by `cosign generate-key-pair`")
        # Plain HTTP only where publish speaks it too (loopback, or --insecure-registry).
        self.flags = ["--allow-insecure-registry", "--allow-http-registry"] \
            if insecure and not is_loopback(host) else []
        unset = "COSIGN_PASSWORD" not in os.environ
        self._run(["public-key", "--key", str(key)], usage=True,
                  fix=("COSIGN_PASSWORD is not set: " if unset else "") +
                  "set COSIGN_PASSWORD to the key's password, or pass a key made by "
                  "`cosign generate-key-pair`")

    def sign(self, reference: str, recursive: bool = False) -> None:
        """Sign ``reference`` (by digest); with ``recursive``, an index and what it names."""
        self._run(["sign", "--key", str(self.key), "--tlog-upload=false", "--yes",
                   *(["--recursive"] if recursive else []), *self.flags, reference],
                  fix="check the registry's credentials (`docker login`) and that it "
                      "takes cosign's signature tags")

    def index_signer(self, repository: str) -> Callable[[str], None]:
        """What signs an index of ``repository`` (HOST/REPO) by its digest, with every
        manifest it names, before a tag names it."""
        return lambda digest: self.sign(f"{repository}@{digest}", recursive=True)

    def attest(self, reference: str, predicate_type: str, predicate: JSON) -> None:
        """Attach ``predicate`` to ``reference`` (by digest) as a signed in-toto statement."""
        with tempfile.TemporaryDirectory(prefix="harness-sign-") as tmp:
            path = Path(tmp) / "predicate.json"
            path.write_text(json.dumps(predicate))
            self._run(["attest", "--key", str(self.key), "--tlog-upload=false", "--yes",
                       "--type", predicate_type, "--predicate", str(path), *self.flags,
                       reference],
                      fix="check the registry's credentials (`docker login`)")

    def _run(self, args: list[str], fix: str, usage: bool = False) -> None:
        try:
            # stdin closed: a key with a password and no COSIGN_PASSWORD fails at once
            # instead of waiting at a prompt nobody answers.
            proc = subprocess.run([self.program, *args], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise CannotCheck(f"cosign {args[0]} gave no answer in {TIMEOUT:.0f} s", fix) \
                from None
        if proc.returncode != 0:
            said = next((line for line in reversed(proc.stderr.splitlines())
                         if line.strip()), f"exit status {proc.returncode}")
            message = f"cosign {args[0]} failed: {sinks.terminal(said, 300)}"
            raise UsageError(message, fix) if usage else CannotCheck(message, fix)
