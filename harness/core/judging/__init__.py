"""The one place that judges: findings and verdicts, per platform and per run."""
