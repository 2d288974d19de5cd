"""Entry points: the ``multiarch-harness`` command and its subcommands."""
