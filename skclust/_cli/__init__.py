"""The ``skclust`` command: one module per subcommand.

Each subcommand module defines ``add_parser(subparsers)``, which registers its
arguments and sets ``run`` (a function of the parsed arguments returning an
exit code). Errors in the input become one line on stderr and exit code 2;
Ctrl-C stops the run and its worker processes with exit code 130. Each run's
output folders are committed only when it completes (see ``_output``).

``--help``, ``--version`` and usage errors answer at once: the subcommand
modules import only the standard library and the light modules of this
package at top level, and numpy, scipy, scikit-learn, matplotlib, Pillow,
joblib and the estimators inside the functions that use them (importing
scikit-learn alone takes a second). tests/test_lazy_imports.py checks it.
"""

import argparse
import difflib
import io
import logging
import os
import re
import signal
import sys
import threading
import warnings
import zipfile
from contextlib import contextmanager

from .. import __version__
from . import demo, graph, image, report, verify, vq
from ._output import output_run

# Order of the subcommands in --help and of the sections in the report.
SUBCOMMANDS = [demo, image, graph, vq, report, verify]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, like the other input errors, instead of usage + message.
        message += _file_in_a_list(message, self)
        self.exit(
            EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n"
        )


# argparse's message for a bad value of an option: "argument -k/--n-clusters:
# 'x.png' is not an integer", "argument --metric: invalid choice: 'x.png' ...".
_BAD_VALUE = re.compile(r"argument (-[^/:]+)[^:]*: (?:invalid choice: )?'([^']*)'")


def _file_in_a_list(message, parser):
    """A hint when a file name was read as one more value of an option.

    ``-k`` and ``--metric`` take every word up to the next option, so
    ``skclust image -k 3 photo.png`` read photo.png as a k. Only for an
    option that takes a list, in a command that takes files: ``--seed
    photo.png`` lacks its value, and ``skclust graph`` reads its files
    through --nodes and --edges, so the order would not help.
    """
    match = _BAD_VALUE.match(message)
    if match is None:
        return ""
    option, value = match.groups()
    if not (os.path.exists(value) or re.search(r"\.[A-Za-z]\w*$", value)):
        return ""
    # argparse keeps its options in private attributes and has no public ones.
    action = parser._option_string_actions.get(option)
    takes_files = any(
        not other.option_strings and other.dest != argparse.SUPPRESS
        for other in parser._actions
    )
    if action is None or action.nargs not in ("+", "*") or not takes_files:
        return ""
    return (
        f"; {option} takes every value up to the next option: name the files "
        f"before {option} ({parser.prog} {value} {option} ...)"
    )


def build_parser():
    parser = _Parser(
        prog="skclust",
        description="Clustering with scikit-learn-compatible estimators: image "
        "compression by colour clustering, spectral graph clustering, and "
        "embedding compression by vector quantization.",
        epilog="The study's data files are read from --data DIR or the "
        "SKCLUST_DATA environment variable; without them every command runs "
        "on embedded default data.",
    )
    parser.add_argument("--version", action="version", version=f"skclust {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for module in SUBCOMMANDS:
        module.add_parser(commands)
    for command in commands.choices.values():
        command.set_defaults(parser=command)
    return parser


def parse_arguments(argv=None):
    """The parsed arguments; a usage error exits with code 2.

    An unknown option is reported by its subcommand, whose --help lists the
    options (argparse leaves it to ``skclust``, whose --help does not), with
    the closest known option when one is near.
    """
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        args.parser.error(
            f"unrecognized arguments: {' '.join(unknown)}"
            + _suggestion(unknown, args.parser)
        )
    return args


def _suggestion(unknown, parser):
    """' (did you mean --out?)' for the first unknown option near a known one."""
    # argparse keeps its options in a private list and has no public one.
    known = {
        name.lstrip("-"): name
        for action in parser._actions
        for name in action.option_strings
    }
    for word in unknown:
        if word in known.values():
            # Known, but given after "--", which makes every later word a
            # file name.
            return f"; {word} comes after --: give the options before it"
        if word.startswith("-"):
            # Compared without dashes, so that --k finds -k, and with a high
            # cutoff, so that an unrelated word suggests nothing.
            bare = word.split("=")[0].lstrip("-")
            close = difflib.get_close_matches(bare, list(known), n=1, cutoff=0.7)
            if close:
                return f"; did you mean {known[close[0]]}?"
    return ""


def main(argv=None):
    """Run the command line; returns the exit code."""
    try:
        with _answer_written():
            args = parse_arguments(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code
    try:
        from ._workers import stop_workers, workers_die_with_parent
    except BaseException as error:
        # A Ctrl-C while joblib is imported, before the run has started
        # anything to stop or to undo.
        if not _is_interrupt(error):
            raise
        print(f"skclust {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED

    seen = []
    try:
        with (
            workers_die_with_parent(),
            output_run(),
            _recorded_interrupts() as seen,
            _printed_while_read(),
            _warnings_in_one_line(args.command),
            _pillow_log_dropped(),
        ):
            code = args.run(args) or 0
            if seen:
                # A Ctrl-C that Python dropped (see _recorded_interrupts): the
                # run is still interrupted, and its output is not committed.
                raise KeyboardInterrupt
            return code
    except Exception as error:
        # After a Ctrl-C any error is the interrupt's: Python 3.11 wraps the
        # KeyboardInterrupt of one landing in an import (the commands import
        # matplotlib and others as they go) in a RuntimeError, raised where
        # a class body calls __set_name__.
        if not seen:
            if not isinstance(error, _BAD_INPUT):
                raise
            print(f"skclust {args.command}: error: {_one_line(error)}", file=sys.stderr)
            return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        pass
    stop_workers()
    print(f"skclust {args.command}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _is_interrupt(error):
    """A KeyboardInterrupt, or an error raised because of one.

    Python 3.11 wraps a KeyboardInterrupt raised in a class body's
    ``__set_name__`` (while a library is imported) in a RuntimeError.
    """
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False


@contextmanager
def _recorded_interrupts():
    """Ctrl-C raises KeyboardInterrupt, as by default, and is also recorded.

    Python prints and drops an exception raised while a finalizer runs
    ("Exception ignored in ..."): a Ctrl-C landing there, among the many
    finalizers of joblib's worker processes, would let the run finish and
    exit 0. The list yielded holds the signals received. Only in the main
    thread, and only where Ctrl-C has its default handler.
    """
    seen = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield seen
        return

    def interrupted(signum, frame):
        seen.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def _warnings_in_one_line(command):
    """Warnings shown as one line naming the command, like its errors.

    Python shows a warning in two lines, the file and line that raised it
    and its source: ``skclust vq`` on a table of fewer distinct rows than a
    k showed ``.../_vq/_estimator.py:124: ConvergenceWarning: ...`` and
    ``).fit(X[:, cols])``. Which warnings are shown (the filters) is left
    as it is.
    """

    def show(message, category, filename, lineno, file=None, line=None):
        print(
            f"skclust {command}: warning: {_one_line(message)}",
            file=sys.stderr if file is None else file,
        )

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextmanager
def _pillow_log_dropped():
    """Pillow's log records dropped for the run.

    Pillow logs what it finds wrong in a file before raising the error the
    command reports: a TIFF declaring 58936 samples a pixel printed "More
    samples per pixel than can be decoded: 58936" (Python's last-resort
    handler, as nothing handles the "PIL" logger) above the error line.
    """
    logger = logging.getLogger("PIL")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextmanager
def _answer_written():
    """``--help`` and ``--version`` exit 2 when their text cannot be written.

    argparse ignores an OSError writing them, and Python one flushing them
    at exit: ``skclust --help > /dev/full`` exited 0 having written nothing,
    where coreutils' tools exit nonzero. Now it says so in one line, as a
    run does. A reader that is gone (``skclust --help | true``) is not an
    error, as for a run's lines; nor is a closed standard output, on which
    argparse writes to standard error instead.
    """
    stream = sys.stdout
    if stream is None:
        yield
        return
    sys.stdout = answer = _UntilReaderGone(stream)
    try:
        yield
    except SystemExit as exit_:
        if exit_.code in (0, None):
            try:
                answer.flush()
            except OSError as error:
                answer.error = answer.error or error
            if answer.error is not None:
                print(f"skclust: error: {_one_line(answer.error)}", file=sys.stderr)
                raise SystemExit(EXIT_BAD_INPUT) from None
        raise
    finally:
        sys.stdout = stream


@contextmanager
def _printed_while_read():
    """``sys.stdout`` that stops printing, silently, once its reader is gone.

    The lines a run prints report on it; its product is its files.
    ``skclust vq table.npy | head -1`` closed the pipe after the first line:
    the next print raised BrokenPipeError, an OSError, which failed the run
    ("error: [Errno 32] Broken pipe", exit 2) and left none of its files.
    """
    stream = sys.stdout
    # Started with its output closed (``skclust graph >&-``), Python's
    # sys.stdout is None: the first print failed with an AttributeError
    # and a traceback, exit 1, and left none of the files. The lines go
    # nowhere instead, as once a reader is gone.
    nowhere = open(os.devnull, "w") if stream is None else None
    sys.stdout = _UntilReaderGone(stream or nowhere)
    try:
        yield
    finally:
        sys.stdout = stream
        if nowhere is not None:
            nowhere.close()


class _UntilReaderGone:
    """A text stream that drops what is written once writing to ``stream``
    has raised BrokenPipeError; everything else is ``stream``'s."""

    def __init__(self, stream):
        self._stream = stream
        self.reader_gone = False
        # The first error raised, for a caller that ignores it (argparse).
        self.error = None

    def write(self, text):
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._drop_the_rest()
            except OSError as error:
                raise self._failed(error) from None
        return len(text)

    def flush(self):
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop_the_rest()
            except OSError as error:
                raise self._failed(error) from None

    def _failed(self, error):
        error = _stdout_error(error)
        self.error = self.error or error
        return error

    def _drop_the_rest(self):
        self.reader_gone = True
        # The stream's buffer would fail again when Python flushes it at
        # exit ("Exception ignored ... BrokenPipeError"): its file now leads
        # nowhere. A stream without a file (a test's capture) has no buffer
        # to flush there.
        try:
            nowhere = os.open(os.devnull, os.O_WRONLY)
        except OSError:
            return
        try:
            os.dup2(nowhere, self._stream.fileno())
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass
        finally:
            os.close(nowhere)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _stdout_error(error):
    """An error writing the printed lines, said to be about them.

    ``skclust image photo.png > /dev/full`` said "error: [Errno 28] No space
    left on device", as if the output folder's disk were full.
    """
    return OSError(error.errno, f"writing to standard output: {error.strerror}")


# Input errors; the last four are backstops for a file that slips past the
# checks made before reading (an allocation too large, a number too long, a
# damaged archive): still one line and exit 2, never a traceback.
_BAD_INPUT = (
    ValueError,
    OSError,
    MemoryError,
    OverflowError,
    EOFError,
    zipfile.BadZipFile,
)


def _one_line(error):
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
