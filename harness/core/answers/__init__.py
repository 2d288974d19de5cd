"""What an image answers: sources, observations, ELF and CPU-level audits, modules."""
