"""Read a YAML config plus ``section.key=value`` overrides into the typed ``Config`` schema.

Everything is checked before any network or dataset is built: unknown sections and keys (with a
"did you mean" suggestion), types, allowed values, ranges and the cross-field rules of a
distillation run.  Errors are ``ConfigError`` with one readable paragraph.
"""
import dataclasses
import difflib
import math
import os
import reprlib
import sys
import typing

import yaml

from ats_ms import methods
from ats_ms.config import schema
from ats_ms.config.arch_names import check_arch, check_conv_bias, check_padding
from ats_ms.config.saved import is_saved_run_config, migrate_saved, read_in_todays_shape
from ats_ms.config.shipped import recipe_path, resolve_config_path
from ats_ms.config.yaml_files import read_yaml_file
from ats_ms.common.errors import ConfigError

MAX_SEED = 2 ** 31 - 1   # MindSpore accepts seeds < 2**32; resumed segments add the global step to it
MAX_EPOCHS = 100_000

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 2, 4, 4, 4
_SHORT.maxstring = _SHORT.maxother = 80


def shown(value):
    """A value as an error message may quote it: at most ~100 characters, whatever its size."""
    return _SHORT.repr(value)


def _suggest(word, options):
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _coerce(value, annotation, where):
    """Check ``value`` against a (possibly Optional / List) annotation; ints are accepted as floats."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where)
    if origin in (list, typing.List):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {shown(value)}.")
        (item,) = typing.get_args(annotation)
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                number = float(value)
            except ValueError:
                pass
        if number is not None:
            if not math.isfinite(number):
                raise ConfigError(f"{where} is {shown(value)}, which is not a finite number; give a real value.")
            return number
    elif annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    if value is None:
        raise ConfigError(f"{where} may not be empty (null); expected {annotation.__name__}.")
    raise ConfigError(f"{where} must be of type {annotation.__name__}, got {shown(value)} ({type(value).__name__}).")


def _section_fields(section_cls):
    hints = typing.get_type_hints(section_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(section_cls)}


def _merge(cfg, raw, source):
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections, got {type(raw).__name__}.")
    sections = _section_fields(schema.Config)
    for section, values in raw.items():
        if section not in sections:
            raise ConfigError(f"{source}: unknown section '{section}'.{_suggest(section, sections)} "
                              f"Sections are: {', '.join(sections)}.")
        _merge_section(getattr(cfg, section), values, section, source)


def _merge_section(target, values, name, source):
    """Set the keys of one section (``name`` is its dotted name); a key whose type is a dataclass is a
    sub-section (``distill.dkd``) and takes a mapping of its own keys."""
    if values is None:
        return
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: section '{name}' must be a mapping of keys, got {shown(values)}.")
    fields = _section_fields(type(target))
    moved = methods.moved_keys() if name == "distill" else {}
    for key, value in values.items():
        if key in moved:
            new = moved[key]
            raise ConfigError(f"{source}: '{name}.{key}' has moved to '{new}' (each method keeps its own keys in a "
                              f"section of its own). Write it as {new}={shown(value)} on the command line, or in YAML "
                              f"as {name}: {{{new.split('.')[1]}: {{{new.split('.')[2]}: {shown(value)}}}}}.")
        if key not in fields:
            raise ConfigError(f"{source}: unknown key '{name}.{key}'.{_suggest(key, fields)} "
                              f"Keys of '{name}' are: {', '.join(fields)}.")
        if dataclasses.is_dataclass(fields[key]):
            _merge_section(getattr(target, key), value, f"{name}.{key}", source)
        else:
            setattr(target, key, _coerce(value, fields[key], f"{source}: '{name}.{key}'"))


def parse_override(text):
    """``section.key=value`` (or ``section.sub.key=value``) -> nested mappings; the value is read as YAML
    (numbers, lists, null)."""
    if "=" not in text:
        raise ConfigError(f"Override '{text}' is not of the form section.key=value (e.g. optim.lr=0.1).")
    path, value = text.split("=", 1)
    parts = path.strip().split(".")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"Override '{text}': the key must be section.key (e.g. distill.tau_wrong=2) or "
                          "section.sub.key (e.g. distill.dkd.alpha=1).")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"Override '{text}': the value is not valid YAML ({exc}).") from None
    for part in reversed(parts):
        parsed = {part: parsed}
    return parsed


def check_run_name(name, key="experiment.name"):
    """A run name is one plain folder name inside experiment.output_dir: never a path that escapes it."""
    text = str(name)
    if not text.strip() or text in (".", "..") or "/" in text or "\\" in text or "\0" in text \
            or os.path.isabs(text) or text != text.strip():
        raise ConfigError(f"'{key}' is {shown(text)}, but a run name must be one plain folder name (no '/', not '.' or "
                          "'..', no leading or trailing spaces); the run folder is <output_dir>/<name>. Use "
                          "experiment.output_dir for the parent folder.")


def _check_rules(cfg):
    check_run_name(cfg.experiment.name)
    if not 0 <= cfg.experiment.seed <= MAX_SEED:
        raise ConfigError(f"'experiment.seed' must be between 0 and {MAX_SEED}, got {cfg.experiment.seed}.")
    if cfg.schedule.epochs > MAX_EPOCHS:
        raise ConfigError(f"'schedule.epochs' is {cfg.schedule.epochs:,}; more than {MAX_EPOCHS:,} epochs is surely a "
                          "typo (the paper trains 240).")
    check_arch(cfg.model.arch, "model.arch")
    check_arch(cfg.teacher.arch, "teacher.arch")
    check_padding(cfg.model.arch, cfg.model.padding, "model.padding")
    check_padding(cfg.teacher.arch, cfg.teacher.padding, "teacher.padding")
    check_conv_bias(cfg.model.arch, cfg.model.conv_bias, "model.conv_bias")
    if cfg.model.pretrained and not str(cfg.model.arch).lower().startswith("mindcv:"):
        raise ConfigError(f"model.pretrained asks for mindcv's ImageNet weights, which exist for mindcv:<name> "
                          f"networks only, not '{cfg.model.arch}'. For other networks give model.checkpoint.")
    check_conv_bias(cfg.teacher.arch, cfg.teacher.conv_bias, "teacher.conv_bias")
    for dotted, allowed in schema.CHOICES.items():
        section, key = dotted.split(".")
        value = getattr(getattr(cfg, section), key)
        if value not in allowed:
            failed = (" Methods of your own packages that failed to load: " + "; ".join(methods.plugin_failures) + "."
                      if dotted == "distill.method" and methods.plugin_failures else "")
            raise ConfigError(f"'{dotted}' is {shown(value)}, but must be one of: {', '.join(allowed)}."
                              f"{_suggest(str(value), allowed)}{failed}")
    for dotted in schema.POSITIVE + schema.NON_NEGATIVE:
        section, key = dotted.split(".")
        value = getattr(getattr(cfg, section), key)
        strict = dotted in schema.POSITIVE
        if value is not None and (value <= 0 if strict else value < 0):
            raise ConfigError(f"'{dotted}' must be {'> 0' if strict else '>= 0'}, got {value}.")
    channels = 1 if cfg.data.name == "speech_commands" else 3
    for section in ("data", "model", "teacher"):
        for key in ("mean", "std"):
            value = getattr(getattr(cfg, section), key)
            if value is not None and len(value) != channels:
                raise ConfigError(f"'{section}.{key}' needs one value per input channel ({channels} for "
                                  f"{cfg.data.name}), got {shown(value)}.")
        std = getattr(cfg, section).std
        if std is not None and min(std) <= 0:
            raise ConfigError(f"'{section}.std' values must be > 0, got {shown(std)}.")
    for section in ("model", "teacher"):
        if (getattr(cfg, section).mean is None) != (getattr(cfg, section).std is None):
            raise ConfigError(f"{section}.mean and {section}.std go together: set both (the network's training "
                              "normalisation) or neither (what its checkpoint records).")
    if cfg.data.train_samples and (cfg.data.subset_per_class or cfg.data.val_per_class):
        raise ConfigError("data.train_samples (the first N images) and data.subset_per_class / data.val_per_class "
                          "(a class-balanced subset and its validation split) choose the training images in two "
                          "ways; set one of them.")
    if cfg.schedule.policy in ("cosine", "poly") and cfg.schedule.min_lr > cfg.optim.lr:
        raise ConfigError(f"'schedule.min_lr' ({cfg.schedule.min_lr:g}) is above optim.lr ({cfg.optim.lr:g}): the "
                          f"{cfg.schedule.policy} schedule would raise the learning rate from optim.lr to min_lr instead "
                          "of lowering it. min_lr is the floor the rate decays to; set it below optim.lr (0 is usual).")
    if cfg.data.subset_per_class and cfg.data.val_per_class >= cfg.data.subset_per_class:
        raise ConfigError(f"data.val_per_class={cfg.data.val_per_class} must be below data.subset_per_class="
                          f"{cfg.data.subset_per_class}: the validation images are carved out of the subset, so no "
                          "training image would be left (e.g. 120 and 20 train on 100 images of each class and "
                          "validate on 20).")
    if cfg.schedule.milestones != sorted(cfg.schedule.milestones):
        raise ConfigError(f"'schedule.milestones' must be increasing, got {cfg.schedule.milestones}.")
    d = cfg.distill
    if not d.label_smoothing < 1:
        raise ConfigError(f"'distill.label_smoothing' must be below 1 (0.1 is usual), got {d.label_smoothing}.")
    method = methods.get(d.method)
    if method.check:
        method.check(cfg)
    if method.needs_teacher:
        if not cfg.teacher.arch or not cfg.teacher.checkpoint:
            raise ConfigError(f"distill.method '{d.method}' needs a trained teacher: set teacher.arch and "
                              "teacher.checkpoint (train one first with distill.method=none), or use "
                              "distill.method=none to train without distillation.")
        if d.cache_teacher_logits and cfg.data.augment and (cfg.data.crop_padding != 0
                                                            or cfg.data.name in RESIZED_CROP_DATASETS):
            raise ConfigError("distill.cache_teacher_logits needs every epoch to show the same images, up to a "
                              "horizontal flip, but the training augmentation also crops (data.augment is true and "
                              f"data.crop_padding is {cfg.data.crop_padding if cfg.data.crop_padding is not None else 'the default'}"
                              f"{', a resized crop for ' + cfg.data.name if cfg.data.name in RESIZED_CROP_DATASETS else ''}). "
                              "Set data.crop_padding=0 for flip-only augmentation (the cache keeps the teacher's logits "
                              "of both views), data.augment=false for none, or leave the cache off.")
        if d.cache_teacher_logits and cfg.runtime.distributed:
            raise ConfigError("distill.cache_teacher_logits is single-device only; turn it off for "
                              "multi-device runs.")
        if d.ce_weight == 0 and d.kd_weight == 0:
            raise ConfigError("distill.ce_weight and distill.kd_weight are both 0: nothing would be trained.")
    if cfg.checkpoint.resume not in ("none", "auto") and not os.path.isfile(cfg.checkpoint.resume):
        raise ConfigError(f"checkpoint.resume '{cfg.checkpoint.resume}' is neither 'none', 'auto' nor an existing "
                          "file. Point it at a run's train_state.ckpt, or use 'auto' to resume the run directory's "
                          "latest state.")


RESIZED_CROP_DATASETS = ("imagenet", "cub200", "stanford_dogs")  # their training pipeline crops at a random scale


def _read_yaml(path, chain=()):
    """A config file's mapping with its ``base:`` files merged underneath (paths relative to the file)."""
    if os.path.abspath(path) in chain:
        raise ConfigError(f"Config file '{path}' includes itself through 'base:'.")
    if not os.path.isfile(path):
        raise ConfigError(f"Config file '{path}' (named as the base of '{chain[-1]}') does not exist." if chain
                          else f"Config file '{path}' does not exist.")
    raw = read_yaml_file(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}.")
    if is_saved_run_config(path):
        raw = read_in_todays_shape(path, raw)
    layers = []
    if "base" in raw:
        base = raw.pop("base")
        base_path = os.path.join(os.path.dirname(os.path.abspath(path)), str(base))
        layers = _read_yaml(base_path, chain + (os.path.abspath(path),))
    return layers + [(path, raw)]


def load_config(path=None, overrides=(), base=None, recipe=None, warn_unused_sections=True):
    """Defaults <- ``base`` dict <- named recipe <- YAML file (after its ``base:`` chain) <- overrides,
    then validated.  Returns ``Config``.  ``warn_unused_sections``: say when a key of another method's section has
    no effect (off for a sweep whose grid varies distill.method, whose config sets every method's section)."""
    cfg = schema.Config()
    layers = []
    if base:
        layers.append(("defaults", base))
    if recipe:
        layers += _read_yaml(recipe_path(recipe))
    if path:
        layers += _read_yaml(resolve_config_path(path))
    layers += [(f"override '{text}'", parse_override(text)) for text in overrides]
    for source, raw in layers:
        _merge(cfg, raw, source)
    _check_rules(cfg)
    if warn_unused_sections:
        _warn_other_methods_keys(cfg, layers)
    return cfg


_WARNED = set()


def _warn_other_methods_keys(cfg, layers):
    """A key of another method's section (``distill.dkd.alpha`` while distill.method is ats) changes nothing: say so
    once per process, unless it holds its default or comes from a run's saved config (which holds every key)."""
    own = methods.get(cfg.distill.method).section
    defaults = schema.Config().distill
    for source, raw in layers:
        if source == "defaults" or is_saved_run_config(source):
            continue
        distill = raw.get("distill") if isinstance(raw, dict) else None
        for section, values in (distill or {}).items():
            if not isinstance(values, dict) or section == own or not hasattr(defaults, section):
                continue
            for key, value in values.items():
                if getattr(getattr(defaults, section), key, value) == value:
                    continue
                message = (f"warning: distill.{section}.{key} ({source}) has no effect: distill.method is "
                           f"{cfg.distill.method}, and the key belongs to {section}.")
                if message not in _WARNED:
                    _WARNED.add(message)
                    print(message, file=sys.stderr)


def refuse_one_state_for_many(cfg, runs, each):
    """Sweeps and chains resume each of their runs from its own folder; a ``checkpoint.resume`` naming one state
    (from the config or an override) would be silently replaced there, so it is refused instead."""
    if cfg.checkpoint.resume not in ("none", "auto"):
        raise ConfigError(f"checkpoint.resume names one training state ('{cfg.checkpoint.resume}'), but a {runs} resumes "
                          f"each {each} from its own folder (running the same command again continues it). To continue "
                          "from that state, fork it with python -m ats_ms.train --config ... "
                          f"checkpoint.resume={cfg.checkpoint.resume} experiment.name=NEW; or drop the key.")


def to_dict(cfg):
    return dataclasses.asdict(cfg)


def config_from_dict(raw):
    """Rebuild a validated ``Config`` from a saved ``config.yaml`` dict (eval / export / resume); a file saved by an
    earlier release is read in today's shape (``migrate_saved``)."""
    cfg = schema.Config()
    _merge(cfg, migrate_saved(raw), "saved config")
    _check_rules(cfg)
    return cfg
