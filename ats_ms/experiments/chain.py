"""Running a teacher-assistant chain (``python -m ats_ms.chain``, whose help describes the chain file): each stage
validated before the first trains, each later stage distilling from the previous stage's ``best.ckpt``, finished
stages skipped and saved ones resumed."""
import os

from ats_ms.common.errors import ConfigError, Interrupted
from ats_ms.config import load_config, refuse_one_state_for_many
from ats_ms.config.loader import check_run_name
from ats_ms.config.yaml_files import read_yaml_file
from ats_ms.engine import run_dir as rd
from ats_ms.engine import run_plan
from ats_ms.process.startup import prepare_process


def load_chain(path):
    if not os.path.isfile(path):
        raise ConfigError(f"Chain file '{path}' does not exist.")
    spec = read_yaml_file(path, "Chain file") or {}
    if not isinstance(spec, dict):
        raise ConfigError(f"Chain file '{path}': the top level must be a mapping with name, output_dir and stages.")
    unknown = set(spec) - {"name", "output_dir", "stages"}
    if unknown:
        raise ConfigError(f"Chain file '{path}': unknown keys {sorted(unknown)}; allowed: name, output_dir, stages.")
    stages = spec.get("stages") or []
    if len(stages) < 2:
        raise ConfigError(f"Chain file '{path}' needs at least two stages (a teacher and a student).")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict) or "config" not in stage or set(stage) - {"config", "overrides", "checkpoint"}:
            raise ConfigError(f"Chain file '{path}', stage {i}: expected {{config: FILE, overrides: [...], "
                              f"checkpoint: FILE (first stage only)}}, got {stage!r}.")
        if "checkpoint" in stage and i:
            raise ConfigError(f"Chain file '{path}', stage {i}: only the first stage may give a ready checkpoint.")
        out.append(dict(stage, config=os.path.join(base, stage["config"])))
    name = str(spec.get("name") or os.path.splitext(os.path.basename(path))[0])
    try:
        check_run_name(name, "name")
    except ConfigError as exc:
        raise ConfigError(f"Chain file '{path}': {exc}") from None
    return name, str(spec.get("output_dir", "runs")), out


def plan_chain(path, extra=()):
    """[(index, cfg, ready checkpoint or None)] for every stage, all validated before anything trains."""
    name, output_dir, stages = load_chain(path)
    root = os.path.join(output_dir, name)
    previous = None  # (arch, best checkpoint) of the stage before
    planned = []
    for i, stage in enumerate(stages):
        overrides = list(stage.get("overrides", [])) + list(extra)
        try:
            # A probe load learns the stage's network and method; the teacher keys are placeholders so that
            # a distillation stage validates before its teacher exists.
            probe = load_config(stage["config"], overrides + ["teacher.arch=resnet8", "teacher.checkpoint=probe"])
            refuse_one_state_for_many(probe, "chain", "stage")
            stage_name = f"{i}_{probe.model.arch}"
            if previous:  # later stages always distil (ATS unless the stage config names a method)
                method = probe.distill.method if probe.distill.method != "none" else "ats"
                overrides += [f"distill.method={method}", f"teacher.arch={previous[0]}",
                              f"teacher.checkpoint={previous[1]}"]
            overrides += [f"experiment.output_dir={root}", f"experiment.name={stage_name}", "checkpoint.resume=auto"]
            cfg = load_config(stage["config"], overrides)
        except ConfigError as exc:
            raise ConfigError(f"chain stage {i} ({stage['config']}): {exc} No stage was trained.") from None
        ready = stage.get("checkpoint") if i == 0 else None
        planned.append((i, cfg, ready))
        previous = (cfg.model.arch, ready or os.path.join(root, stage_name, rd.BEST))
    return root, planned


def run_chain(path, extra=(), train_fn=None):
    root, planned = plan_chain(path, extra)
    prepare_process([p[1] for p in planned])  # before MindSpore's first operation
    from ats_ms.engine.trainer import train  # pylint: disable=import-outside-toplevel
    summaries = []
    for i, cfg, ready in planned:
        if ready:
            print(f"stage 0: using {ready} ({cfg.model.arch})")
            continue
        run_dir = os.path.join(cfg.experiment.output_dir, cfg.experiment.name)
        if run_plan.finished_summary(run_dir, cfg) is not None:
            print(f"stage {i} ({cfg.model.arch}) already finished: {run_dir}")
            continue
        print(f"stage {i}: {cfg.model.arch}" + (f" from {cfg.teacher.arch}" if i else ""), flush=True)
        try:
            summaries.append((train_fn or train)(cfg))
        except Interrupted as exc:
            raise Interrupted(exc.signum, f"Chain stopped in stage {i} ({run_dir}); its state and the finished stages "
                                          "are kept. Run the same chain command again to continue.") from None
    return root, summaries
