"""This repository's developer tooling, run by nox (``python -m devtools.bench``, ``python -m
devtools.docs``): the benchmark and the documentation's generated pages. It imports the
harness; the harness never imports it (``tests/test_layers.py``), and the wheel does not ship
it (``[tool.setuptools.packages.find]`` in pyproject.toml takes ``harness`` only).
"""
