"""Progress of long runs: a bar with the time left on a terminal, lines otherwise.

The subcommands report progress by calling a ``log(message)`` function with
one line per finished fit (and the odd note or error). :class:`Progress` is
such a function: on a terminal it draws a tqdm bar on stderr with an estimate
of the time left and prints the lines above it; when stderr is not a terminal
(a log file, CI) it prints the plain lines only; with ``quiet`` it prints
nothing but errors.
"""

import sys

from tqdm import tqdm


class Progress:
    """A ``log`` function that also counts finished fits.

    Parameters
    ----------
    total : int or None
        Fits expected; None when unknown (the bar then counts without an
        estimate of the time left).
    what : str
        Label of the bar.
    quiet : bool, default=False
        Print only the lines that start with ``error:``.
    bar : bool or None, default=None
        Draw a bar; None draws one when stderr is a terminal.
    command : str or None, default=None
        With a subcommand's name, ``error:`` lines go to stderr as
        ``skclust COMMAND: error: ...``, as the command's other errors.

    Examples
    --------
    >>> from skclust._cli._progress import Progress
    >>> with Progress(2, "fits", bar=False) as log:
    ...     log("image.png l2 k=3: 7 iterations")
    ...     log("note: image.png: is animated (3 frames); only frame 1 is used")
    ...     log("image.png l2 k=6: 9 iterations")
    image.png l2 k=3: 7 iterations
    note: image.png: is animated (3 frames); only frame 1 is used
    image.png l2 k=6: 9 iterations
    """

    def __init__(self, total, what, *, quiet=False, bar=None, command=None):
        self.quiet, self.command = quiet, command
        if bar is None:
            bar = not quiet and sys.stderr.isatty()
        self._bar = (
            tqdm(total=total, desc=what, unit="fit", file=sys.stderr, leave=False)
            if bar
            else None
        )

    def __call__(self, message):
        """Print one progress line; a line that is no error or note is a fit."""
        is_error = message.startswith("error:")
        if self.quiet and not is_error:
            return
        stream = sys.stdout
        if is_error and self.command:
            stream, message = sys.stderr, f"skclust {self.command}: {message}"
        if self._bar is None:
            print(message, file=stream, flush=True)
            return
        self._bar.write(message, file=stream)
        if not (is_error or message.startswith("note:")):
            self._bar.update(1)

    def close(self):
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
