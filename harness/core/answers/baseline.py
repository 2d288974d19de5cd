"""The baseline-CPU run: what an emulated platform's oldest CPU says (the ``baseline-cpu``
source).

QEMU's default CPU for a platform implements its newest architecture: ARMv7 for every 32-bit
ARM variant, ARMv8.x with LSE atomics and more for arm64. A program that needs more than its
platform promises runs there, and on the newest boards, and dies with SIGILL on the oldest
(a Raspberry Pi Zero's ARM1176, a Cortex-A53 without LSE atomics: Drakkar-Software/OctoBot#3137,
openobserve#966). For a platform emulated here, the commands that answered are asked once
more on the platform's baseline CPU model, by ``QEMU_CPU`` in the command's environment
(QEMU user mode reads it in every process it starts; binfmt_misc is not changed). A command
that ran on the default CPU and dies by an illegal instruction on the baseline is ``broken``.

Platforms that run natively here (linux/amd64 and its levels, linux/386 on an x86-64 host)
are asked again under QEMU launched explicitly, ``qemu-x86_64 -cpu qemu64 PROGRAM``, with the
machine's own QEMU binary mounted read-only into the probe container: only the command's own
program runs on the baseline CPU there, since the programs it starts run natively again
(binfmt_misc has no handler for the host's own architecture). linux/amd64/v4 is not asked:
QEMU's TCG has no AVX-512.

Where the baseline CPU of linux/arm/v6 or v5 answers ``uname -m`` with the platform's own
name (``armv6l``), QEMU's default CPU's ``armv7l`` is no longer a quirk: the verdict says what
the platform's own CPU says. Pure.
"""

from __future__ import annotations

import signal

from harness.core.failures.diagnosis import signal_of

# QEMU's model of each platform's oldest CPU, and what it is.
CPUS: dict[str, tuple[str, str]] = {
    "linux/arm64": ("cortex-a53", "ARMv8.0-A, the Cortex-A53 of a Raspberry Pi 3"),
    "linux/arm/v7": ("cortex-a8", "ARMv7-A, the first ARMv7 core"),
    "linux/arm/v6": ("arm1176", "ARMv6KZ, the ARM1176 of a Raspberry Pi Zero/1"),
    "linux/arm/v5": ("arm926", "ARMv5TEJ, the ARM926"),
    "linux/amd64": ("qemu64", "x86-64-v1, QEMU's qemu64 model"),
    "linux/amd64/v2": ("Nehalem", "x86-64-v2, the Nehalem"),
    "linux/amd64/v3": ("Haswell-noTSX", "x86-64-v3, the Haswell"),
    "linux/386": ("pentium2", "i686, the Pentium II"),
}
# The QEMU binary that runs each natively-run architecture's programs when launched by hand.
LAUNCHERS = {"amd64": "qemu-x86_64", "386": "qemu-i386"}


def illegal(status: int, output: str) -> bool:
    """Whether a command was killed by an illegal instruction: its status is SIGILL's, or
    QEMU says so (``qemu: uncaught target signal 4``) where a shell reported another, or
    Ruby's own handler does (``[BUG] Illegal instruction``: it reports the signal and
    aborts)."""
    return signal_of(status) == signal.SIGILL or "uncaught target signal 4" in output or \
        (signal_of(status) == signal.SIGABRT and "[BUG] Illegal instruction" in output)
