"""``python -m ats_ms.cpu_conv``: build (or find) the oneDNN CPU convolution, self-test it, say what it is.

Exit code 0 when it can be used (``runtime.cpu_conv: auto`` will use it), non-zero with the reason and the fix
when it cannot (``auto`` then falls back to MindSpore's convolution)."""
import argparse
import sys

from ats_ms.cli import run_cli


def main(argv=None):
    argparse.ArgumentParser(prog="python -m ats_ms.cpu_conv", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    import ats_ms  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel  (CPU defaults first)
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from ats_ms import cpu_conv  # pylint: disable=import-outside-toplevel
    ms.set_device("CPU")
    choice = cpu_conv.select("onednn")  # a ConfigError naming the missing piece when it cannot be had
    print(f"ats_ms oneDNN convolution: {choice.detail}")
    print(f"library: {choice.library.path} (self-test passed)")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
