"""Hostile files fed to every subcommand that reads files.

Each generated file (truncated, oversized headers, wrong dtypes, random bytes,
zip bombs, huge integers, mixed line endings, ...) must end the same way:
exit code 2, one line on stderr and no traceback, and nothing written but the
output folder's own marker. The files are small and the runs in-process, so
the whole fuzz takes seconds.
"""

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from skclust._cli import main
from skclust._cli._output import MARKER

N_FILES = 200


@pytest.fixture(autouse=True)
def _small_budget(monkeypatch):
    # A 4 MB budget lets small files stand for the gigabyte-sized ones.
    monkeypatch.setenv("SKCLUST_MEMORY_BUDGET", str(4 * 10**6))
    monkeypatch.delenv("SKCLUST_DATA", raising=False)


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npy_with_header(header, data=b"", version=(1, 0)):
    """A .npy file whose header text is ``header`` (any dict-like text)."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    size = (
        struct.pack("<H", len(text))
        if version == (1, 0)
        else struct.pack("<I", len(text))
    )
    return b"\x93NUMPY" + bytes(version) + size + text + data


def _header(shape, descr="<f4", fortran=False):
    return f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"


def _npz_bytes(members, compress=True):
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _truncations(data, rng, n):
    cuts = rng.integers(0, len(data), size=n)
    return [data[:cut] for cut in cuts]


def _random_bytes(rng, n, prefix=b""):
    sizes = rng.integers(0, 3000, size=n)
    return [prefix + rng.bytes(int(size)) for size in sizes]


def _fill(cases, rng, makers):
    """Cycle through ``makers`` (each returning one file's bytes) to N_FILES."""
    i = 0
    while len(cases) < N_FILES:
        cases.append(makers[i % len(makers)](rng))
        i += 1
    return cases


def hostile_tables(rng):
    """Hostile ``.npy`` inputs of ``skclust vq``."""
    good = _npy_bytes(rng.normal(size=(40, 8)).astype(np.float32))
    cases = _truncations(good, rng, 40)
    cases += _random_bytes(rng, 20) + _random_bytes(rng, 20, b"\x93NUMPY\x01\x00")
    for shape in [
        (300_000_000, 64),
        (2**62, 2**62),
        (2**70, 3),
        (10**6, 10**6, 10**6),
        (-1, 8),
        (40,),
        (0, 8),
        (8, 0),
        "'many'",
        "(1.5, 2)",
    ]:
        cases.append(_npy_with_header(_header(shape), b"\0" * 64))
    for descr in ["<i4", "|u1", "|b1", "<c16", "<U5", "|V8", "<M8[s]", "|O", "|S0"]:
        cases.append(_npy_with_header(_header((4, 2), descr), b"\0" * 128))
    cases += [
        _npy_with_header("{'descr': '<f4', 'shape': (2, 2)", b"\0" * 16),
        _npy_with_header("__import__('os').system('true')", b""),
        _npy_with_header("{" * 5000, b""),
        _npy_with_header(_header((2, 2)), b"\0" * 16, version=(3, 0)),
        _npy_with_header(_header((2, 2)), b"\0" * 16, version=(9, 9)),
        b"\x93NUMPY\x01\x00\xff\xff" + b" " * 100,
        _npy_bytes(np.array([[np.nan, 1.0]])),
        _npy_bytes(np.array([[np.inf, 1.0], [0, 0]], dtype=np.float32)),
        _npy_bytes(np.array([{"a": 1}])),
        _npz_bytes({"x.npy": good}),
        good + b"trailing bytes",
    ]
    makers = [
        lambda r: _npy_with_header(
            _header((int(r.integers(1, 2**40)), int(r.integers(1, 2**20)))),
            r.bytes(int(r.integers(0, 500))),
        ),
        lambda r: _truncations(good, r, 1)[0],
        lambda r: _npy_with_header(r.bytes(int(r.integers(1, 300))).decode("latin1")),
    ]
    return _fill(cases, rng, makers)


def _codes_archive(codes=None, codebook=None, extra=None, compress=True):
    members = {}
    if codes is not None:
        members["codes.npy"] = codes
    if codebook is not None:
        members["codebook.npy"] = codebook
    members.update(extra or {})
    return _npz_bytes(members, compress)


def hostile_archives(rng):
    """Hostile ``.npz`` inputs of ``skclust vq --decode``."""
    codes = _npy_bytes(rng.integers(0, 4, size=(30, 1)).astype(np.uint8))
    codebook = _npy_bytes(rng.normal(size=(4, 6)).astype(np.float32))
    good = _codes_archive(codes, codebook)
    cases = _truncations(good, rng, 40)
    cases += _random_bytes(rng, 20) + _random_bytes(rng, 20, b"PK\x03\x04")
    bomb = _npy_with_header(_header((10**7, 1), "|u1"), b"\0" * 10**7)
    cases += [
        # 10 MB of zeros in a 10 kB member: over the 4 MB budget.
        _codes_archive(bomb, codebook),
        # 300,000,000 x 64 codes declared in a few bytes.
        _codes_archive(_npy_with_header(_header((300_000_000, 64), "|u1")), codebook),
        _codes_archive(_npy_with_header(_header((2**70, 64), "|u1")), codebook),
        _codes_archive(None, codebook),
        _codes_archive(codes, None),
        _codes_archive(_npy_bytes(np.array([{"a": 1}])), codebook),
        _codes_archive(_npy_bytes(np.full((30, 1), 9, np.uint8)), codebook),
        _codes_archive(_npy_bytes(np.full((30, 1), -1, np.int8)), codebook),
        _codes_archive(_npy_bytes(np.zeros((30, 1))), codebook),
        _codes_archive(codes, _npy_bytes(np.full((4, 6), np.nan, np.float32))),
        _codes_archive(codes, _npy_bytes(np.zeros((4, 6), complex))),
        _codes_archive(codes, _npy_bytes(np.array(["a", "b"]))),
        _codes_archive(_npy_bytes(np.zeros((30, 2), np.uint8)), codebook),
        _codes_archive(b"not an array", codebook),
        _codes_archive(codes[:-10], codebook, compress=False),
        _codes_archive(codes, codebook)[:-22],  # no end of central directory
    ]
    # A member whose stored CRC does not match its data.
    broken = bytearray(_codes_archive(codes, codebook, compress=False))
    position = broken.find(b"\x93NUMPY") + 200
    broken[position] ^= 0xFF
    cases.append(bytes(broken))
    # Central directory sizes patched to claim a member of 2**40 bytes.
    patched = bytearray(good)
    central = patched.find(b"PK\x01\x02")
    patched[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)
    cases.append(bytes(patched))
    makers = [
        lambda r: _truncations(good, r, 1)[0],
        lambda r: _codes_archive(
            _npy_with_header(
                _header((int(r.integers(1, 2**40)), int(r.integers(1, 64))), "|u1"),
                r.bytes(int(r.integers(0, 200))),
            ),
            codebook,
        ),
        lambda r: _codes_archive(codes, codebook, compress=False)[
            : int(r.integers(30, 400))
        ],
        lambda r: bytes(b ^ (0xFF if r.random() < 0.02 else 0) for b in good),
    ]
    return _fill(cases, rng, makers)


_NODES = ['1\t"a"\t0', '2\t"b"\t0', '3\t"c"\t1', '4\t"d"\t1']
_EDGES = ["1 2", "3 4", "2 3"]


def _text(lines, ending="\n"):
    return "".join(line + ending for line in lines).encode("utf-8")


def hostile_graphs(rng):
    """Hostile (nodes, edges) pairs of ``skclust graph``; one file bad each."""
    nodes, edges = _text(_NODES), _text(_EDGES)
    bad_nodes = [
        _text([*_NODES, f'{2**70}\t"x"\t1']),
        _text([*_NODES, '5\t"x"\t' + str(2**70)]),
        _text([*_NODES, '5\t"x"\t' + "9" * 5000]),
        _text([*_NODES, '1\t"dup"\t0']),
        _text([*_NODES, "5 x 1"]),
        _text([*_NODES, '5\t"x"\tred']),
        _text([*_NODES, '5\t"x"\t1\tsrc\textra']),
        _text([*_NODES, '\ufeff6\t"bom"\t0']),
        _text([*_NODES, '5\t"x"\t1.5']),
        b"",
        b"# only a comment\n",
        b"\xff\xfe" + "1\tb\t0\n".encode("utf-16-le"),
        _text(_NODES)[:-3] + b"\xc3",
        _text(_NODES[:2], "\r\n") + _text(["5\tonly two"], "\r") + _text(_NODES[2:]),
        b'1\t"a"\t0\x002\t"b"\t1\n',
    ]
    bad_edges = [
        _text([*_EDGES, f"1 {2**70}"]),
        _text([*_EDGES, "1 99"]),
        _text([*_EDGES, "1"]),
        _text([*_EDGES, "1 2 -3"]),  # a third column is a weight: positive
        _text([*_EDGES, "a b"]),
        _text([*_EDGES, "1 " + "9" * 5000]),
        _text(_EDGES[:1], "\r\n") + _text(["2\t"], "\r") + _text(_EDGES[1:]),
        b"\x00" * 64,
        b"1 2\n\xff\xfe\n",
    ]
    cases = [(case, edges) for case in bad_nodes] + [(nodes, c) for c in bad_edges]
    for data in _random_bytes(rng, 30) + _random_bytes(rng, 30, b'1\t"a"\t0\n\xff'):
        cases.append((data, edges))
        cases.append((nodes, data + b"\n1 \xff"))
    makers = [
        lambda r: (nodes, _text([*_EDGES, f"1 {int(r.integers(5, 2**62))}"])),
        lambda r: (_text([*_NODES, f'1\t"d"\t{int(r.integers(0, 9))}']), edges),
        lambda r: (
            nodes,
            _text(_EDGES, r.choice(["\n", "\r\n", "\r"]))
            + _text([f"{int(r.integers(-9, 9))}"], r.choice(["\n", "\r\n", "\r"])),
        ),
        lambda r: (_text([*_NODES, f"{r.integers(5, 99)}\t" + "x" * 3]), edges),
    ]
    return _fill(cases, rng, makers)


def _png(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png_declaring(width, height):
    """A tiny PNG whose header declares ``width`` x ``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _encoded(image, fmt):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt)
    return buffer.getvalue()


def hostile_images(rng):
    """Hostile image files of ``skclust image``."""
    photo = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
    formats = {fmt: _encoded(photo, fmt) for fmt in ("PNG", "JPEG", "BMP", "GIF")}
    cases = []
    for data in formats.values():
        cases += _truncations(data, rng, 12)
    cases += _random_bytes(rng, 20) + _random_bytes(rng, 20, b"\x89PNG\r\n\x1a\n")
    cases += _random_bytes(rng, 10, b"BM") + _random_bytes(rng, 10, b"\xff\xd8\xff")
    cases += [
        _png_declaring(100_000, 100_000),
        _png_declaring(2**31 - 1, 1),
        _png_declaring(0, 0),
        _png(np.zeros((8, 8), np.uint8)),  # grayscale, one level: k = 2 skipped
        _png(np.zeros((8, 8, 2), np.uint8)),  # grayscale + alpha, transparent
        _png(np.zeros((8, 8, 4), np.uint8)),  # transparent
        _png(np.zeros((8, 8), np.uint16)),  # 16-bit grayscale, one level
        _encoded(np.zeros((8, 8), bool), "PNG"),
        _npy_bytes(photo),
        b"",
        b"P6\n99999 99999\n255\n" + b"\0" * 100,
    ]
    makers = [
        lambda r: _truncations(formats[r.choice(list(formats))], r, 1)[0],
        lambda r: _png_declaring(int(r.integers(20_000, 2**31)), 20_000),
        lambda r: bytes(
            b ^ (0xFF if r.random() < 0.05 else 0) for b in formats["PNG"][:200]
        ),
    ]
    return _fill(cases, rng, makers)


def _check_one_line_exit_2(capsys, argv, out, name):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, f"{name}: exit {code}"
    assert len(lines) == 1 and "error" in lines[0], f"{name}: {captured.err!r}"
    assert "Traceback" not in captured.err
    written = [p.name for p in out.rglob("*")] if out.exists() else []
    assert written in ([], [MARKER]), f"{name}: wrote {written}"


# For each subcommand: the generator, its seed, the names of the files of one
# case, and the command line reading them.
SUITES = {
    "vq": (
        hostile_tables,
        1,
        ["table.npy"],
        lambda paths: ["vq", paths[0], "-k", 2, "--n-init", 1],
    ),
    "vq --decode": (
        hostile_archives,
        2,
        ["codes.npz"],
        lambda paths: ["vq", "--decode", paths[0]],
    ),
    "graph": (
        hostile_graphs,
        3,
        ["nodes.txt", "edges.txt"],
        lambda paths: ["graph", "--nodes", paths[0], "--edges", paths[1], "-k", 2],
    ),
    "image": (
        hostile_images,
        4,
        ["image.png"],
        lambda paths: ["image", paths[0], "-k", 2, "--metric", "l2"],
    ),
}


@pytest.mark.parametrize("command", list(SUITES))
def test_hostile_files(command, tmp_path, capsys):
    generate, seed, names, arguments = SUITES[command]
    cases = generate(np.random.default_rng(seed))
    assert len(cases) >= N_FILES
    for i, case in enumerate(cases):
        paths = []
        for name, data in zip(names, case if len(names) > 1 else [case], strict=True):
            paths.append(tmp_path / f"{i}-{name}")
            paths[-1].write_bytes(data)
        out = tmp_path / f"out{i}"
        argv = [*arguments(paths), "--out", out]
        _check_one_line_exit_2(capsys, argv, out, f"{command}, case {i}")
