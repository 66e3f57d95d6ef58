"""A sweep's grid: ``--grid`` axes over one key (their product) or over several keys at once (listed points, so
a grid need not be a full product), and the run name and overrides of every point.

Every point gets a folder of its own: two points never share a name (values a folder name cannot hold as they
are, such as paths, are written readably and followed by a short hash of the value itself), and a grid that
would train one setting twice (a key on two axes, a value listed twice, equal seeds) is refused before anything
trains, naming where."""
import hashlib
import itertools

import yaml

from ats_ms.common.errors import ConfigError

UNSAFE = ("/", "\\", " ")


def parse_grid(items):
    """["distill.tau_target=1,2", "a.x,a.y=1:2,3:4"] -> [(("distill.tau_target",), [("1",), ("2",)]),
    (("a.x", "a.y"), [("1", "2"), ("3", "4")])].

    An axis over one key lists its values; an axis over several keys (comma-separated) lists points of
    colon-separated values, one per key, so a grid need not be a full product (TS and ATS temperature pairs)."""
    grid = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--grid '{item}' is not of the form section.key=v1,v2,... (or "
                              "section.a,section.b=a1:b1,a2:b2,... for points over several keys).")
        key_text, values = item.split("=", 1)
        keys = tuple(k.strip() for k in key_text.split(","))
        if not all(keys):
            raise ConfigError(f"--grid '{item}' has an empty key name.")
        if len(set(keys)) != len(keys):
            raise ConfigError(f"--grid '{item}' names a key twice; each key of an axis takes one value per point.")
        parsed = [v.strip() for v in values.split(",") if v.strip()]
        if not parsed:
            raise ConfigError(f"--grid '{item}' lists no values.")
        points_of_axis = [tuple(p.strip() for p in v.split(":")) if len(keys) > 1 else (v,) for v in parsed]
        wrong = [":".join(p) for p in points_of_axis if len(p) != len(keys)]
        if wrong:
            raise ConfigError(f"--grid '{item}': the point '{wrong[0]}' has {len(wrong[0].split(':'))} values for the "
                              f"{len(keys)} keys {', '.join(keys)}; give one value per key, separated by ':'.")
        _refuse_repeats(item, points_of_axis)
        for earlier_item, (earlier_keys, _) in zip(items, grid):
            shared = sorted(set(keys) & set(earlier_keys))
            if shared:
                raise ConfigError(f"The key {shared[0]} is on two --grid axes ('{earlier_item}' and '{item}'): every "
                                  "point would set it twice and the later value would win. Put its values on one axis.")
        grid.append((keys, points_of_axis))
    return grid


def _value(text):
    """A grid value as the config will read it (so that 0.1 and 1e-1 are one value)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _refuse_repeats(item, points_of_axis):
    seen = {}
    for point in points_of_axis:
        key = tuple(repr(_value(v)) for v in point)
        if key in seen:
            raise ConfigError(f"--grid '{item}' lists the same point twice ('{':'.join(seen[key])}' and "
                              f"'{':'.join(point)}'): it would be trained twice and counted as two seeds. List it once.")
        seen[key] = point


def check_overrides(grid, overrides):
    """Refuse a key set both by an axis and by a fixed override (the axis would win silently)."""
    fixed = {o.split("=", 1)[0].strip(): o for o in overrides if "=" in o}
    for keys, _ in grid:
        for key in keys:
            if key in fixed:
                raise ConfigError(f"The key {key} is on a --grid axis and also set by the override '{fixed[key]}': "
                                  "every point would take the axis's value. Drop one of them.")


def check_seeds(seeds):
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ConfigError(f"--seeds lists seed {repeated[0]} more than once: the same run would be trained twice and "
                          "counted as two seeds. List each seed once.")


def _label(value):
    """A value as a folder name shows it; a value it cannot show as it is gets a short hash of itself, so that two
    values never share a name (/x/a/best.ckpt and /x/a_best.ckpt do not)."""
    try:
        text = str(yaml.safe_load(value))
    except yaml.YAMLError:
        text = value
    safe = text
    for char in UNSAFE:
        safe = safe.replace(char, "_")
    if safe != text:
        safe += "~" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return safe


def _short_names(keys):
    """The last part of each key (tau_target), or the whole key where two keys share their last part."""
    last = [k.split(".")[-1] for k in keys]
    return {k: (name if last.count(name) == 1 else k) for k, name in zip(keys, last)}


def points(grid, seeds):
    """(run name, overrides) for every point of the grid's product and every seed."""
    short = _short_names([k for keys, _ in grid for k in keys])
    names = {}
    for combo in itertools.product(*[axis for _, axis in grid]) if grid else [()]:
        pairs = [(k, v) for (keys, _), values in zip(grid, combo) for k, v in zip(keys, values)]
        for seed in seeds:
            overrides = [f"{k}={v}" for k, v in pairs] + [f"experiment.seed={seed}"]
            name = "__".join([f"{short[k]}={_label(v)}" for k, v in pairs] + [f"seed={seed}"])
            if name in names:  # a guard: the rules above make names unique
                raise ConfigError(f"Two points of the grid ({names[name]} and {overrides}) would share the run folder "
                                  f"'{name}'; change one of their values.")
            names[name] = overrides
            yield name, overrides
