"""``python -m ats_ms.eval``: top-1 / top-5 (and per-class accuracy) of a checkpoint on the test split.

    python -m ats_ms.eval --config runs/x/config.yaml --checkpoint runs/x/best.ckpt [--per-class]
"""
import argparse
import json
import sys

from ats_ms.cli import add_output, check_output_folder, run_cli
from ats_ms.process.startup import prepare_process
from ats_ms.config import load_config


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ms.eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the run's config.yaml, or any config with model/data")
    parser.add_argument("--checkpoint", required=True, help="best.ckpt, last.ckpt or train_state.ckpt")
    parser.add_argument("--per-class", action="store_true", help="also print accuracy per class")
    add_output(parser, "write the result to this JSON file")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = parser.parse_intermixed_args(argv)
    args.output = args.output or args.json_output
    if args.output:
        check_output_folder(args.output)
    cfg = load_config(args.config, list(args.overrides) + ["checkpoint.resume=none"])
    prepare_process(cfg)  # before MindSpore's first operation
    from ats_ms.data import create_dataset  # pylint: disable=import-outside-toplevel
    from ats_ms.data.pipeline_errors import pipeline_errors  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.evaluate import evaluate  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.restore import network_from_checkpoint  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.runtime import setup_runtime  # pylint: disable=import-outside-toplevel
    setup_runtime(cfg.runtime)
    data, info = create_dataset(cfg.data, "test")
    restored = network_from_checkpoint(cfg, args.checkpoint, pipeline=(info.mean, info.std))
    net, classes = restored.net, restored.classes
    for note in restored.notes:
        print(f"note: {note}")
    with pipeline_errors(cfg.data):
        result = evaluate(net, data, classes)
    print(f"{cfg.model.arch} on {info.name} test ({result['count']} images): top1 {result['top1']:.2f} "
          f"top5 {result['top5']:.2f} loss {result['loss']:.4f}")
    if args.per_class:
        width = max([len("class")] + [len(n) for n in info.class_names])
        print(f"per-class top-1 on the test split:\n  {'class':<{width}}  top-1 %  images")
        for name, acc, n in zip(info.class_names, result["per_class"], result["per_class_count"]):
            print(f"  {name:<{width}}  {'-' if acc is None else f'{acc:.2f}':>7}  {n:>6}")
    else:
        result.pop("per_class")
        result.pop("per_class_count")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(dict(result, arch=cfg.model.arch, checkpoint=args.checkpoint, classes=info.class_names), f,
                      indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
