"""``python -m ats_ms.zoo``: published teachers by name, downloaded, checked and converted in one command.

    python -m ats_ms.zoo                                          # the list: name, network, data, published top-1
    python -m ats_ms.zoo get cifar100_resnet56 --output teachers/ # -> teachers/cifar100_resnet56.ckpt
    python -m ats_ms.zoo get he2016_resnet20 he2016_resnet56 --output teachers/ --mirror http://host/files/

``get`` downloads each release file into ats_ms's cache (reused next time), checks its SHA-256 against the hash its
release name carries, and converts it as ``python -m ats_ms.convert`` does (the network, the normalisation it
was trained with and the published accuracy are known by name): ``<output>/<name>.ckpt``, ready for
``teacher.checkpoint``.  Converting needs PyTorch to read the files (the ``torch`` extra).  ``--mirror`` fetches
the files from another folder address instead of their release addresses.
"""
import argparse
import os
import sys

from ats_ms.cli import run_cli
from ats_ms.common.errors import AtsError


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m ats_ms.zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="list", choices=("list", "get"))
    parser.add_argument("names", nargs="*", help="get: the teachers to fetch (python -m ats_ms.zoo lists them)")
    parser.add_argument("--output", default="teachers", help="get: the folder the converted checkpoints go to "
                                                             "(default teachers/, created)")
    parser.add_argument("--mirror", help="get: fetch the release files from this folder address instead")
    return parser


def listing():
    from ats_ms.interop.zoo import TEACHERS  # pylint: disable=import-outside-toplevel
    lines = ["| name | network | trained on | published top-1 % | release file | source |", "|---|---|---|---|---|---|"]
    lines += [f"| {t.name} | {t.arch} | {t.dataset} | {t.top1:.2f} | {t.file} | {t.source} |" for t in TEACHERS.values()]
    return "\n".join(lines)


def get(names, output, mirror=None):
    """Fetch, check and convert every named teacher; returns [(name, checkpoint path, notes)]."""
    from ats_ms.engine.import_model import convert  # pylint: disable=import-outside-toplevel
    from ats_ms.interop import zoo  # pylint: disable=import-outside-toplevel
    teachers = [zoo.get(n) for n in names]  # every name checked before the first download
    if os.path.exists(output) and not os.path.isdir(output):
        raise AtsError(f"--output '{output}' is a file; give a folder for the converted teachers.")
    os.makedirs(output, exist_ok=True)
    done = []
    for teacher in teachers:
        path = zoo.fetch(teacher, mirror=mirror)
        target = os.path.join(output, f"{teacher.name}.ckpt")
        _, arch, classes, _, notes = convert("auto", path, target)
        if arch != teacher.arch:
            raise AtsError(f"{teacher.file} converted to {arch}, not the {teacher.arch} its name says; the file "
                           f"'{path}' is kept for a look.")
        done.append((teacher.name, target, [f"{arch}, {classes} classes"] + notes))
    return done


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.action == "list":
        if args.names:
            raise AtsError("'list' takes no names; python -m ats_ms.zoo get NAME ... fetches teachers.")
        print(listing())
        return 0
    if not args.names:
        raise AtsError("Name the teachers to get (python -m ats_ms.zoo lists them), e.g. python -m ats_ms.zoo get "
                       "cifar100_resnet56 --output teachers/.")
    for name, target, notes in get(args.names, args.output, args.mirror):
        print(f"{name} -> {target} ({'; '.join(notes)})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
