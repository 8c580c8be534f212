"""PNG files written by hand, for depths and colour types Pillow cannot write."""

import struct
import zlib

_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels: grey, grey+alpha, RGB, RGBA


def png_chunk(kind, data):
    """One PNG chunk: length, type, data and CRC."""
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_file(header, data):
    """The bytes of a PNG of one IHDR and one IDAT chunk (``data`` compressed)."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(data))
        + png_chunk(b"IEND", b"")
    )


def write_png16(path, pixels):
    """Write (h, w, channels) values in [0, 65535] as a 16-bit PNG; ``path``."""
    height, width, channels = pixels.shape
    header = struct.pack(
        ">IIBBBBB", width, height, 16, _COLOUR_TYPES[channels], 0, 0, 0
    )
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels.astype(">u2"))
    path.write_bytes(png_file(header, rows))
    return path
