"""Shared entry-point behaviour: user errors become one paragraph on stderr and exit code 2; an
interrupted run exits 130 (SIGINT) or 143 (SIGTERM) after its state is saved."""
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
        return main(argv)
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
