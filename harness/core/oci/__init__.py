"""Registry documents and image references, as the distribution specs write them."""
