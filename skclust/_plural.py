"""A count followed by its noun, singular for one: what the progress lines print."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun`` in the number that ``count`` asks for.

    Parameters
    ----------
    count : int
    noun : str
        The singular.
    plural : str, default=None
        The plural when it is not ``noun + "s"``.

    Examples
    --------
    >>> from skclust._plural import counted
    >>> counted(1, "iteration"), counted(0, "iteration"), counted(12, "fit")
    ('1 iteration', '0 iterations', '12 fits')
    >>> counted(1, "self-loop"), counted(2, "query", "queries")
    ('1 self-loop', '2 queries')
    """
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
