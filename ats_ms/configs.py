"""``python -m ats_ms.configs``: list the configs that ship with ats_ms, with their descriptions.

    python -m ats_ms.configs                 # every shipped config
    python -m ats_ms.configs cifar100/demo   # those under a folder

Any listed name can be given to ``--config`` without a path or ``.yaml``, from any folder:
``python -m ats_ms.train --config cifar100/ats_paper/resnet110_to_vgg8/ats``.
"""
import argparse
import sys

from ats_ms.cli import run_cli
from ats_ms.config.shipped import config_root, list_configs


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.configs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefix", nargs="?", default="", help="only configs under this folder")
    args = parser.parse_args(argv)
    rows = [(n, d) for n, d in list_configs() if n.startswith(args.prefix)]
    width = max((len(n) for n, _ in rows), default=0)
    print(f"shipped configs in {config_root()}:")
    for name, text in rows:
        print(f"  {name:<{width}}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
