"""Read a YAML config plus ``section.key=value`` overrides into the typed ``Config`` schema.

Everything is checked before any network or dataset is built: unknown sections and keys (with a
"did you mean" suggestion), types, allowed values, ranges and the cross-field rules of a
distillation run.  Errors are ``ConfigError`` with one readable paragraph.
"""
import dataclasses
import difflib
import os
import typing

import yaml

from ats_ms.config import schema
from ats_ms.errors import ConfigError


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
            raise ConfigError(f"{where} must be a list, got {value!r}.")
        (item,) = typing.get_args(annotation)
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    if value is None:
        raise ConfigError(f"{where} may not be empty (null); expected {annotation.__name__}.")
    raise ConfigError(f"{where} must be of type {annotation.__name__}, got {value!r} ({type(value).__name__}).")


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
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: section '{section}' must be a mapping of keys, got {values!r}.")
        target = getattr(cfg, section)
        fields = _section_fields(type(target))
        for key, value in values.items():
            if key not in fields:
                raise ConfigError(f"{source}: unknown key '{section}.{key}'.{_suggest(key, fields)} "
                                  f"Keys of '{section}' are: {', '.join(fields)}.")
            setattr(target, key, _coerce(value, fields[key], f"{source}: '{section}.{key}'"))


def parse_override(text):
    """``section.key=value`` -> {section: {key: value}}; the value is read as YAML (numbers, lists, null)."""
    if "=" not in text:
        raise ConfigError(f"Override '{text}' is not of the form section.key=value (e.g. optim.lr=0.1).")
    path, value = text.split("=", 1)
    parts = path.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"Override '{text}': the key must be section.key (e.g. distill.tau_wrong=2).")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"Override '{text}': the value is not valid YAML ({exc}).") from None
    return {parts[0]: {parts[1]: parsed}}


def _check_rules(cfg):
    for dotted, allowed in schema.CHOICES.items():
        section, key = dotted.split(".")
        value = getattr(getattr(cfg, section), key)
        if value not in allowed:
            raise ConfigError(f"'{dotted}' is '{value}', but must be one of: {', '.join(allowed)}."
                              f"{_suggest(str(value), allowed)}")
    for dotted in schema.POSITIVE + schema.NON_NEGATIVE:
        section, key = dotted.split(".")
        value = getattr(getattr(cfg, section), key)
        strict = dotted in schema.POSITIVE
        if value is not None and (value <= 0 if strict else value < 0):
            raise ConfigError(f"'{dotted}' must be {'> 0' if strict else '>= 0'}, got {value}.")
    for key in ("mean", "std"):
        value = getattr(cfg.data, key)
        if value is not None and len(value) != 3:
            raise ConfigError(f"'data.{key}' needs one value per RGB channel (3 values), got {value}.")
    if cfg.data.std is not None and min(cfg.data.std) <= 0:
        raise ConfigError(f"'data.std' values must be > 0, got {cfg.data.std}.")
    if cfg.schedule.milestones != sorted(cfg.schedule.milestones):
        raise ConfigError(f"'schedule.milestones' must be increasing, got {cfg.schedule.milestones}.")
    d = cfg.distill
    if d.method != "none":
        if not cfg.teacher.arch or not cfg.teacher.checkpoint:
            raise ConfigError(f"distill.method '{d.method}' needs a trained teacher: set teacher.arch and "
                              "teacher.checkpoint (train one first with distill.method=none), or use "
                              "distill.method=none to train without distillation.")
        if d.method in ("ts", "kd") and d.tau_target != d.tau_wrong:
            raise ConfigError(f"distill.method '{d.method}' is symmetric temperature scaling, but tau_target "
                              f"({d.tau_target}) != tau_wrong ({d.tau_wrong}). Set both to the same value, "
                              "or use distill.method=ats for asymmetric temperatures.")
        if d.cache_teacher_logits and cfg.data.augment:
            raise ConfigError("distill.cache_teacher_logits needs every epoch to show the same images, but "
                              "data.augment is true. Set data.augment=false, or leave the cache off.")
        if d.cache_teacher_logits and cfg.runtime.distributed:
            raise ConfigError("distill.cache_teacher_logits is single-device only; turn it off for "
                              "multi-device runs.")
        if d.ce_weight == 0 and d.kd_weight == 0:
            raise ConfigError("distill.ce_weight and distill.kd_weight are both 0: nothing would be trained.")
    if cfg.checkpoint.resume not in ("none", "auto") and not os.path.isfile(cfg.checkpoint.resume):
        raise ConfigError(f"checkpoint.resume '{cfg.checkpoint.resume}' is neither 'none', 'auto' nor an existing "
                          "file. Point it at a run's train_state.ckpt, or use 'auto' to resume the run directory's "
                          "latest state.")


RECIPE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "configs", "recipes")


def recipe_path(name):
    """A named recipe (``ats_paper``, ``demo``, ``kd_benchmark``) -> its YAML file."""
    path = os.path.join(RECIPE_DIR, f"{name}.yaml")
    if not os.path.isfile(path):
        known = sorted(f[:-5] for f in os.listdir(RECIPE_DIR) if f.endswith(".yaml")) if os.path.isdir(RECIPE_DIR) else []
        raise ConfigError(f"Unknown recipe '{name}'.{_suggest(name, known)} Recipes: {', '.join(known) or 'none found'}.")
    return path


def _read_yaml(path, chain=()):
    """A config file's mapping with its ``base:`` files merged underneath (paths relative to the file)."""
    if not os.path.isfile(path):
        raise ConfigError(f"Config file '{path}' does not exist. Shipped configs live in the repository's "
                          "configs/ folder (e.g. configs/quickstart/digits_student_ats.yaml).")
    if os.path.abspath(path) in chain:
        raise ConfigError(f"Config file '{path}' includes itself through 'base:'.")
    with open(path, encoding="utf-8") as f:
        try:
            raw = yaml.safe_load(f) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"Config file '{path}' is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}.")
    layers = []
    if "base" in raw:
        base = raw.pop("base")
        base_path = os.path.join(os.path.dirname(os.path.abspath(path)), str(base))
        layers = _read_yaml(base_path, chain + (os.path.abspath(path),))
    return layers + [(path, raw)]


def load_config(path=None, overrides=(), base=None, recipe=None):
    """Defaults <- ``base`` dict <- named recipe <- YAML file (after its ``base:`` chain) <- overrides,
    then validated.  Returns ``Config``."""
    cfg = schema.Config()
    if base:
        _merge(cfg, base, "defaults")
    if recipe:
        for source, raw in _read_yaml(recipe_path(recipe)):
            _merge(cfg, raw, source)
    if path:
        for source, raw in _read_yaml(path):
            _merge(cfg, raw, source)
    for text in overrides:
        _merge(cfg, parse_override(text), f"override '{text}'")
    _check_rules(cfg)
    return cfg


def to_dict(cfg):
    return dataclasses.asdict(cfg)


def config_from_dict(raw):
    """Rebuild a validated ``Config`` from a saved ``config.yaml`` dict (eval / export / resume)."""
    cfg = schema.Config()
    _merge(cfg, raw, "saved config")
    _check_rules(cfg)
    return cfg
