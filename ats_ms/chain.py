"""``python -m ats_ms.chain``: a teacher-assistant chain (teacher -> assistant -> ... -> student)
as one experiment.

    python -m ats_ms.chain --config configs/cifar100/ta_chain/resnet110_resnet56_resnet20.yaml [-- key=value ...]

The chain file lists stage configs in order; the first stage is trained as it is (usually a teacher with
``distill.method: none``, or an existing checkpoint given by ``checkpoint``), and every later stage
distils from the previous stage's ``best.ckpt`` (its ``teacher.arch`` / ``teacher.checkpoint`` are set
by the chain).  All stages run under ``<output_dir>/<name>/<stage index>_<arch>/``.  Every stage is
validated before the first one trains; a stage is skipped when its folder holds a run finished with
exactly its config, and resumed when it holds a saved state, so re-running the command continues the chain.

Chain file:

    name: resnet110_resnet32_resnet8
    output_dir: runs/cifar100/ta_chain
    stages:
      - {config: ../ats_paper/teachers/resnet110.yaml}
      - {config: ../benchmark/resnet110_to_resnet32/ats.yaml}
      - {config: ../benchmark/resnet56_to_resnet20/ats.yaml, overrides: [model.arch=resnet8]}
"""
import argparse
import sys

from ats_ms.cli import run_cli
from ats_ms.experiments.chain import run_chain


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.chain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="chain file")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value", help="applied to every stage")
    args = parser.parse_intermixed_args(argv)
    root, _ = run_chain(args.config, args.overrides)
    print(f"chain finished: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
