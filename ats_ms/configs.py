"""``python -m ats_ms.configs``: list the configs that ship with ats_ms, with their descriptions.

    python -m ats_ms.configs                 # every shipped config
    python -m ats_ms.configs cifar100/demo   # those under a folder
    python -m ats_ms.configs --keys          # every key a config takes: default, allowed values, what it does

Any listed name can be given to ``--config`` without a path or ``.yaml``, from any folder:
``python -m ats_ms.train --config cifar100/ats_paper/resnet110_to_vgg8/ats``.
"""
import argparse
import shutil
import sys
import textwrap

from ats_ms.cli import run_cli
from ats_ms.common.errors import ConfigError
from ats_ms.config.shipped import config_root, list_configs


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.configs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefix", nargs="?", default="", help="only configs under this folder")
    parser.add_argument("--keys", action="store_true", help="print every config key as a Markdown table instead")
    args = parser.parse_args(argv)
    if args.keys:
        from ats_ms.config.reference import markdown  # pylint: disable=import-outside-toplevel
        print(markdown())
        return 0
    every = list_configs()
    rows = [(n, d) for n, d in every if n.startswith(args.prefix)]
    if not rows:
        folders = sorted({n.split("/")[0] for n, _ in every})
        close = [f for f in sorted({n.rsplit("/", 1)[0] for n, _ in every}) if args.prefix.split("/")[0] in f]
        raise ConfigError(f"No shipped config starts with '{args.prefix}'. The top-level folders are "
                          f"{', '.join(folders)}" + (f"; close: {', '.join(close[:4])}" if close else "")
                          + ". python -m ats_ms.configs lists them all.")
    print(f"shipped configs in {config_root()}:")
    for line in listing_lines(rows, shutil.get_terminal_size((100, 24)).columns):
        print(line)
    return 0


def listing_lines(rows, columns):
    """Each config's name on its own line and its description wrapped beneath it, within ``columns``."""
    width = max(40, columns - 1)
    lines = []
    for name, text in rows:
        lines.append(f"  {name}")
        lines += textwrap.wrap(text, width=width, initial_indent="      ", subsequent_indent="      ",
                               break_on_hyphens=False) if text else []
    return lines


if __name__ == "__main__":
    sys.exit(run_cli(main))
