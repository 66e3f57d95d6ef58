"""Shared entry-point behaviour: user errors become one paragraph on stderr and exit code 2; an
interrupted run exits 130 (SIGINT) or 143 (SIGTERM) after its state is saved."""
import os
import signal
import sys
import textwrap

from ats_ms import signals
from ats_ms.errors import AtsError, Interrupted


def paragraph(text):
    """Wrapped for a terminal, but never inside a path or a word (paths hold hyphens)."""
    return textwrap.fill(text, width=100, break_on_hyphens=False, break_long_words=False)


def error_paragraph(exc):
    kind = type(exc).__name__.replace("Error", " error").replace("TrainingDiverged", "Training diverged")
    kind = kind.replace("RunFolder error", "Run folder error")
    return paragraph(f"ats_ms: {kind}: {exc}")


def run_cli(main, argv=None):
    """``argv=None``: a real command line (``python -m ...``), which also gets the signal watcher."""
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
