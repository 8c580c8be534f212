"""Checked reading of ``.npy`` files and ``.npz`` members.

numpy allocates whatever a ``.npy`` header declares before it reads the data,
so a 100-byte file declaring 300,000,000 x 64 values asks for 71.5 GiB. Here
the header is read first and its shape checked against the bytes really
present and against a memory budget; only then is anything allocated. An
``.npz`` member is read through ``zipfile`` no further than its checked size,
so a zip bomb never expands past the budget.
"""

import math
import os
import warnings
import zipfile

import numpy as np

from ._files import check_input_file

# Used when the machine's memory cannot be read.
_FALLBACK_BUDGET = 8 * 10**9
BUDGET_ENV = "SKCLUST_MEMORY_BUDGET"


def memory_budget():
    """Bytes one array read from a file may take.

    ``SKCLUST_MEMORY_BUDGET`` (bytes) when set, else half the physical memory.
    """
    text = os.environ.get(BUDGET_ENV)
    if text:
        try:
            budget = int(text)
        except ValueError:
            budget = -1
        if budget < 0:
            # -5 was taken, and files were refused for a budget of -5e-09 GB.
            raise ValueError(f"{BUDGET_ENV}={text!r} is not a number of bytes")
        return budget
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return _FALLBACK_BUDGET


def _gb(n_bytes):
    return f"{n_bytes / 1e9:.3g} GB"


def read_header(handle, name, n_bytes, budget):
    """Read and check the header of a ``.npy`` stream positioned at its start.

    Parameters
    ----------
    handle : binary file object
    name : str
        How to name the file in messages.
    n_bytes : int
        Size of the whole ``.npy`` stream.
    budget : int or None
        Largest array in bytes; None for no limit (a memory map).

    Returns
    -------
    shape : tuple of int
    fortran_order : bool
    dtype : numpy.dtype

    Raises
    ------
    ValueError
        When the header is unreadable, declares Python objects, or declares
        more (or fewer) bytes than the stream holds or more than ``budget``.
    """
    try:
        with warnings.catch_warnings():
            # numpy parses a header that is not a Python literal as Python 2
            # text, warning that the file "was created on Python 2": above
            # the one line of the error the checks below then raise.
            warnings.filterwarnings(
                "ignore", message="Reading `.npy` or `.npz` file required additional"
            )
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                header = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                header = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
    except zipfile.BadZipFile:
        # An .npz member whose bytes fail their CRC check: the archive is
        # damaged, not the header (read_npz_member says so).
        raise
    except Exception as error:  # numpy's parser raises many kinds
        # (ValueError, SyntaxError, tokenize.TokenError, RecursionError, ...)
        message = " ".join(str(error).split())[:200]
        raise ValueError(f"{name}: unreadable .npy header ({message})") from None
    shape, fortran_order, dtype = header
    if dtype.hasobject:
        raise ValueError(
            f"{name}: holds pickled Python objects, which skclust never loads "
            "(allow_pickle=False)"
        )
    declared = math.prod(shape) * dtype.itemsize
    present = n_bytes - handle.tell()
    if declared != present:
        problem = "truncated" if declared > present else "longer than its header says"
        raise ValueError(
            f"{name}: {problem}: the header declares shape {shape} of {dtype} "
            f"({declared} bytes of data) and the file holds {present}"
        )
    if budget is not None and declared > budget:
        raise ValueError(
            f"{name}: the header declares shape {shape} of {dtype} "
            f"({_gb(declared)}), more than the memory budget of {_gb(budget)}"
        )
    return shape, fortran_order, dtype


def read_npz_member(path, member, budget=None):
    """The array ``member`` of the ``.npz`` archive ``path``, read with checks.

    The member's declared size is checked against ``budget`` (by default
    :func:`memory_budget`) before it is decompressed, its ``.npy`` header
    against that size, and no more than that size is ever decompressed.

    Raises
    ------
    ValueError
        Naming the file when it is missing, not an archive, damaged, lacks the
        member, or the member is too large or malformed.
    """
    budget = memory_budget() if budget is None else budget
    name = f"{path}"
    check_input_file(path, name)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo(f"{member}.npy")
            except KeyError:
                raise ValueError(f"{name}: has no '{member}' array") from None
            if info.file_size > budget + 2**16:
                raise ValueError(
                    f"{name}: member {member}.npy would expand to "
                    f"{_gb(info.file_size)}, more than the memory budget of "
                    f"{_gb(budget)}"
                )
            with archive.open(info) as stream:
                where = f"{name} ({member})"
                shape, fortran_order, dtype = read_header(
                    stream, where, info.file_size, budget
                )
                data = stream.read(math.prod(shape) * dtype.itemsize)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        message = " ".join(str(error).split())[:200]
        raise ValueError(f"{name}: unreadable .npz archive ({message})") from None
    except NotImplementedError as error:  # an unsupported compression method
        raise ValueError(f"{name}: unreadable .npz archive ({error})") from None
    if len(data) != math.prod(shape) * dtype.itemsize or dtype.itemsize == 0:
        raise ValueError(f"{name}: member {member}.npy is truncated or malformed")
    array = np.frombuffer(data, dtype=dtype)
    order = "F" if fortran_order else "C"
    return array.reshape(shape, order=order).copy()
