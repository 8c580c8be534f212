"""The check that a path given as input names a file, shared by the readers."""

import os


def check_input_file(path, name=None):
    """Raise a ``ValueError`` naming ``path`` (or ``name``) unless it is a file.

    A folder, and a pipe or a device, get their own messages: "no such file"
    for a path that exists sent people looking for a typo.
    """
    name = path if name is None else name
    if os.path.isdir(path):
        raise ValueError(f"{name}: is a folder; expected a file")
    if not os.path.isfile(path):
        if os.path.exists(path):
            # A pipe or a device (/dev/stdin, a named pipe) was also "no
            # such file".
            raise ValueError(f"{name}: not a regular file (a pipe or a device)")
        raise ValueError(f"{name}: no such file")
