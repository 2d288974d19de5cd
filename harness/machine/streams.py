"""A stream of byte chunks (an engine's archive, an HTTP response) as a file object.

``tarfile``'s stream mode reads a file; the docker SDK and requests hand out iterators of
chunks. :class:`ChunkFile` reads them as far as asked and no further, and closing it closes
the source, which stops the transfer of the rest.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any


class ChunkFile(io.RawIOBase):
    """A readable file over ``chunks`` (empty chunks are skipped, not taken for the end)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._source = chunks
        self._chunks = iter(chunks)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n

    def close(self) -> None:
        close = getattr(self._source, "close", None)
        if close is not None:
            close()  # stops the transfer of the rest
        super().close()
