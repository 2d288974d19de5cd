"""What a build takes: Dockerfile text, steps, cache, secrets, tags, Bake targets."""
