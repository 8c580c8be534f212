"""Where the study's data files are, and the data skclust ships or generates.

The study's files (football.bmp, parrots.png, nodes.txt, edges.txt,
AImodel.npy) are never part of skclust. They are found in the folder given by
``--data DIR`` on the command line or by the ``SKCLUST_DATA`` environment
variable; without either, every command runs on embedded defaults.
"""

import os
from pathlib import Path

DATA_ENV = "SKCLUST_DATA"


def study_data_dir(data=None):
    """The folder holding the study's files, or None when none is configured.

    Parameters
    ----------
    data : str or Path, default=None
        Explicit folder (``--data``); takes precedence over ``SKCLUST_DATA``.

    Returns
    -------
    Path or None

    Raises
    ------
    FileNotFoundError
        When a folder is configured but does not exist.

    Examples
    --------
    >>> from skclust.datasets import study_data_dir
    >>> study_data_dir("/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: /nonexistent: data folder not found (from --data)
    """
    source = "--data"
    if data is None:
        data, source = os.environ.get(DATA_ENV) or None, DATA_ENV
    if data is None:
        return None
    path = Path(data)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: data folder not found (from {source})")
    return path


def study_file(name, data=None):
    """Path of one of the study's files, or None when no data folder is set.

    Raises
    ------
    FileNotFoundError
        When the data folder is set but lacks the file.
    """
    directory = study_data_dir(data)
    if directory is None:
        return None
    path = directory / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found in the data folder")
    return path
