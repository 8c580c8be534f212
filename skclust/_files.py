"""The check that a path given as input names a file, shared by the readers."""

import os
import stat


def check_input_file(path, name=None, *, pipe_ok=False):
    """Raise a ``ValueError`` naming ``path`` (or ``name``) unless it is a file.

    A folder gets its own message: "no such file" for a folder that exists
    sent people looking for a typo. So does anything else that exists but
    is not a file (a pipe, a device such as /dev/zero, a socket).

    With ``pipe_ok``, a named pipe is accepted too (``<(zcat edges.gz)``, or
    ``/dev/stdin`` fed by a pipe): readers that go through their file once,
    from the start, take one, and opening it waits for a writer, as ``cat``
    does. The others read a file more than once, or seek in it. A device
    stays refused: /dev/zero is one endless line.
    """
    name = path if name is None else name
    if os.path.isdir(path):
        raise ValueError(f"{name}: is a folder; expected a file")
    if os.path.isfile(path):
        return
    if pipe_ok and _is_pipe(path):
        return
    if os.path.exists(path):
        if pipe_ok:
            raise ValueError(
                f"{name}: is not a regular file or a named pipe (a device or "
                "socket); expected a file"
            )
        raise ValueError(
            f"{name}: is not a regular file (a pipe, device or socket); expected a file"
        )
    raise ValueError(f"{name}: no such file")


def _is_pipe(path):
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False
