"""The block printed before training starts: the resolved setup in a dozen lines, so that a wrong
override (a forgotten ``data.root``, a tau typo, 240 epochs instead of 24) shows before hours are spent."""
import os

from ats_ms import methods
from ats_ms.process import cpu_isa
from ats_ms.engine.runtime import amp_level
from ats_ms.models import count_params, normalization, variants


def _method(d):
    method = methods.get(d.method)
    return method.describe(d) if method.describe else d.method


def _schedule(s, steps):
    warm = f"{s.warmup_epochs:g}-epoch linear warm-up" if s.warmup_epochs else "no warm-up"
    if s.policy == "step":
        shape = f"x{s.gamma:g} at epochs {list(s.milestones)}" if s.milestones else "constant"
    elif s.policy == "cosine":
        shape = f"cosine to {s.min_lr:g}"
    else:
        shape = f"poly (power {s.power:g}) to {s.min_lr:g}"
    return f"{warm}, then {shape}; {s.epochs} epochs x {steps} steps = {s.epochs * steps:,} steps"


def setup_lines(t):
    """``t``: the group trainer after its build (datasets, networks, optimizer)."""
    cfg, info, test = t.base_cfg, t.info, t.test_info
    students = t.members
    d = cfg.data
    lines = ["setup:"]
    lines.append(f"  data      {info.name} from {info.location}: train {info.num_samples:,} images "
                 f"({t.steps} steps of {d.batch_size}{' per device' if t.runtime.group_size > 1 else ''}), "
                 + (f"class-balanced subset: {d.subset_per_class or 'all'} per class, {d.val_per_class} per class "
                    f"held out for validation; " if d.subset_per_class or d.val_per_class else "")
                 + f"test {test.num_samples:,}; augment {'on' if d.augment else 'off'}; {info.workers} data worker(s)"
                 + (f" (data.num_parallel_workers {d.num_parallel_workers}, {os.cpu_count()} CPUs)"
                    if info.workers != d.num_parallel_workers else ""))
    student = students[0].student
    built = variants.summary(t.student_options)
    lines.append(f"  student   {cfg.model.arch} ({count_params(student):,} parameters{', ' + built if built else ''})"
                 + (f" x {len(students)} (same initial weights, same batches)" if len(students) > 1 else ""))
    if t.teacher is not None:
        lines.append(f"  teacher   {cfg.teacher.arch} ({t.teacher.num_params:,} parameters) from "
                     f"{cfg.teacher.checkpoint}; frozen, BatchNorm {'folded' if t.teacher.folded else 'kept'}"
                     + (", inputs re-normalised to its training mean/std"
                        if isinstance(t.teacher.net, normalization.Renormalize) else "")
                     + (", logits cached" if t.cached else ""))
    for m in students:
        who = f"method [{m.label}]" if len(students) > 1 else "method"
        lines.append(f"  {who:<9} {_method(m.cfg.distill)}")
    o = cfg.optim
    lines.append(f"  optimizer {o.name} lr {t.base_lr:g} (global batch {t.group.batch_size}), momentum {o.momentum:g}, "
                 f"weight decay {o.weight_decay:g}{', nesterov' if o.nesterov else ''}")
    lines.append(f"  schedule  {_schedule(cfg.schedule, t.steps)}")
    r = cfg.runtime
    ranks = f" (this is rank {t.runtime.rank})" if t.runtime.group_size > 1 else ""
    lines.append(f"  device    {r.device_target}, {r.mode} mode, AMP {amp_level(r)}, "
                 f"{t.runtime.group_size} device(s){ranks}, seed {cfg.experiment.seed}")
    if r.device_target == "CPU":
        lines.append(f"  conv      {t.runtime.convolution}")
        lines.append(f"  cpu isa   {cpu_isa.current().describe()}")
    for m in students:
        lines.append(f"  run       {m.run_dir}" + (f" ({m.plan.kind})" if m.plan.kind != "new" else ""))
    return lines
