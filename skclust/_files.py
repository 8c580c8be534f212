"""The check that a path given as input names a file, shared by the readers."""

import os


def check_input_file(path, name=None):
    """Raise a ``ValueError`` naming ``path`` (or ``name``) unless it is a file.

    A folder gets its own message: "no such file" for a folder that exists
    sent people looking for a typo. So does anything else that exists but
    is not a file (a pipe, a device such as /dev/zero, a socket).
    """
    name = path if name is None else name
    if os.path.isdir(path):
        raise ValueError(f"{name}: is a folder; expected a file")
    if not os.path.isfile(path):
        if os.path.exists(path):
            raise ValueError(
                f"{name}: is not a regular file (a pipe, device or socket); "
                "expected a file"
            )
        raise ValueError(f"{name}: no such file")
