"""A stream of chunks read as a file: by tarfile in stream mode, as the probes' audit and
publishing read an engine's archives."""

from __future__ import annotations

import io
import tarfile

from harness.machine.streams import ChunkFile


def test_an_empty_chunk_is_not_the_end_of_the_stream() -> None:
    """publish's own reader took b"" for the end and would have cut an archive short."""
    assert ChunkFile([b"ab", b"", b"cd"]).read() == b"abcd"


def test_tarfile_reads_an_archive_split_into_odd_chunks() -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("bin/prog")
        info.size = 5000
        tar.addfile(info, io.BytesIO(b"\x7fELF" + b"x" * 4996))
    raw = data.getvalue()
    chunks = [raw[i:i + 777] for i in range(0, len(raw), 777)]
    with tarfile.open(fileobj=ChunkFile(chunks), mode="r|") as tar:
        member = next(iter(tar))
        body = tar.extractfile(member)
        assert body is not None and body.read(4) == b"\x7fELF"


def test_closing_it_closes_the_source() -> None:
    class Source:
        closed = False

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"x" * 10

        def close(self) -> None:
            self.closed = True

    source = Source()
    reader = ChunkFile(source)
    assert reader.read(3) == b"xxx"
    reader.close()
    assert source.closed
