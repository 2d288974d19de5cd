"""Build a Dockerfile for several platforms side by side and check what each image really is."""

__version__ = "0.1.0"
