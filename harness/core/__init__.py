"""Pure logic: the platform table, ELF headers, observations, verdicts, diagnosis, reports.

No I/O and no third-party package: everything here is unit-tested without an engine."""
