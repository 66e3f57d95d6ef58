"""A sweep's grid: ``--grid`` axes over one key (their product) or over several keys at once (listed points, so
a grid need not be a full product), and the run name and overrides of every point."""
import itertools

import yaml

from ats_ms.common.errors import ConfigError


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
        parsed = [v.strip() for v in values.split(",") if v.strip()]
        if not parsed:
            raise ConfigError(f"--grid '{item}' lists no values.")
        points_of_axis = [tuple(p.strip() for p in v.split(":")) if len(keys) > 1 else (v,) for v in parsed]
        wrong = [":".join(p) for p in points_of_axis if len(p) != len(keys)]
        if wrong:
            raise ConfigError(f"--grid '{item}': the point '{wrong[0]}' has {len(wrong[0].split(':'))} values for the "
                              f"{len(keys)} keys {', '.join(keys)}; give one value per key, separated by ':'.")
        grid.append((keys, points_of_axis))
    return grid


def _label(value):
    try:
        text = str(yaml.safe_load(value))
    except yaml.YAMLError:
        text = value
    return text.replace("/", "_").replace("\\", "_").replace(" ", "")


def points(grid, seeds):
    """(run name, overrides) for every point of the grid's product and every seed."""
    for combo in itertools.product(*[axis for _, axis in grid]) if grid else [()]:
        pairs = [(k, v) for (keys, _), values in zip(grid, combo) for k, v in zip(keys, values)]
        for seed in seeds:
            overrides = [f"{k}={v}" for k, v in pairs] + [f"experiment.seed={seed}"]
            name = "__".join([f"{k.split('.')[-1]}={_label(v)}" for k, v in pairs] + [f"seed={seed}"])
            yield name, overrides
