"""Shared entry-point behaviour: user errors become one paragraph on stderr and exit code 2."""
import sys
import textwrap

from ats_ms.errors import AtsError


def run_cli(main, argv=None):
    try:
        return main(argv)
    except AtsError as exc:
        kind = type(exc).__name__.replace("Error", " error").replace("TrainingDiverged", "Training diverged")
        print("\n" + textwrap.fill(f"ats_ms: {kind}: {exc}", width=100) + "\n", file=sys.stderr)
        return 2
