"""The registry side: an OCI distribution client, publishing by digest, index checks,
a local registry."""
