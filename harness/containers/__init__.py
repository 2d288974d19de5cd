"""The engine side: the engine client, bases, builds, probes, and a platform's pipeline."""
