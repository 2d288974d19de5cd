"""What went wrong and what to do: the diagnosis table and the harness's errors."""
