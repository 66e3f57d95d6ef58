"""Shared entry-point behaviour: user errors become one paragraph on stderr and exit code 2; an
interrupted run exits 130 (SIGINT) or 143 (SIGTERM) after its state is saved.  The model-zoo demo's flags, which
``train`` and ``export`` also accept, are in ``demo_flags``."""
import argparse
import atexit
import os
import signal
import sys
import textwrap

from ats_ms.common import signals
from ats_ms.common.errors import AtsError, Interrupted


def paragraph(text):
    """Wrapped for a terminal, but never inside a path or a word (paths hold hyphens)."""
    return textwrap.fill(text, width=100, break_on_hyphens=False, break_long_words=False)


def error_paragraph(exc):
    kind = type(exc).__name__.replace("Error", " error").replace("TrainingDiverged", "Training diverged")
    kind = kind.replace("RunFolder error", "Run folder error")
    return paragraph(f"ats_ms: {kind}: {exc}")


def add_output(parser, what, repeatable=False):
    """The one way a command names a file it writes: ``--output FILE`` (``--json FILE``, the older spelling of
    eval and report, still works)."""
    action = "append" if repeatable else "store"
    parser.add_argument("--output", action=action, help=what)
    parser.add_argument("--json", action=action, dest="json_output", help=argparse.SUPPRESS)


def check_output_folder(target, flag="--output"):
    """Refuse, before any work, an output path whose folder does not exist."""
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise AtsError(f"{flag} '{target}': the folder '{folder}' does not exist. Create it first or choose another "
                       "path (nothing was computed).")


def quiet_cell_finalizers():
    """MindSpore's ``Cell.__del__`` fails for cells still alive at interpreter shutdown (mindcv networks are: its
    registry holds them), after MindSpore's module globals are gone, and Python prints a traceback for each
    ("Exception ignored in: <function Cell.__del__>").  Their memory goes with the process anyway, so from here on
    such a failure is not reported.  Called at exit by every command, and by the test suite."""
    if "mindspore" not in sys.modules:
        return
    cell = sys.modules["mindspore"].nn.Cell
    original = cell.__del__
    if getattr(original, "ats_ms_quiet", False):
        return

    def quiet_del(self):
        try:
            original(self)
        except (AttributeError, TypeError):
            pass

    quiet_del.ats_ms_quiet = True
    cell.__del__ = quiet_del


def run_cli(main, argv=None):
    """``argv=None``: a real command line (``python -m ...``), which also gets the signal watcher."""
    atexit.register(quiet_cell_finalizers)
    if argv is None:
        signals.install()
    try:
        code = main(argv)
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
        return code
    except AtsError as exc:
        print("\n" + error_paragraph(exc) + "\n", file=sys.stderr)
        return 2
    except Interrupted as exc:
        command = f"\n    {exc.command}" if exc.command else ""
        print("\n" + paragraph(f"ats_ms: {exc}") + command + "\n", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nats_ms: interrupted (Ctrl-C).", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away():
    """The reader of stdout closed it (``... | head``): stop quietly, as a command killed by SIGPIPE does (exit
    141), and point stdout at /dev/null so that Python's own flush at exit cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE
