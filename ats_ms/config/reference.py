"""Every config key as a Markdown table, read from the schema itself (``ats_ms.config.schema`` and each method's
section), so that the documentation's table cannot drift from what a config accepts: each key's default, its
allowed values or range, and the comment the schema writes beside it.  ``python -m ats_ms.configs --keys`` prints
it; docs/training.md holds it between ``<!-- config-keys -->`` markers, and a test compares the two."""
import ast
import dataclasses
import inspect
import json
import textwrap

from ats_ms.config import schema

START, END = "<!-- config-keys:start -->", "<!-- config-keys:end -->"


def _comments(cls):
    """{field name: the comment beside it, or the comment lines right above it} from the class's source."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body[0].body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        line = lines[node.lineno - 1]
        text = line.split("#", 1)[1].strip() if "#" in line else ""
        above, i = [], node.lineno - 2
        while not text and i >= 0 and lines[i].strip().startswith("#"):
            above.insert(0, lines[i].strip()[1:].strip())
            i -= 1
        found[node.target.id] = text or " ".join(above)
    return found


def _default(field):
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return ""
    if dataclasses.is_dataclass(value):
        return None
    if value is None:
        return "null"
    if isinstance(value, (list, bool)):
        return json.dumps(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _rule(dotted):
    if dotted in schema.CHOICES:
        return " / ".join(str(v) for v in schema.CHOICES[dotted])
    if dotted in schema.POSITIVE:
        return "> 0"
    if dotted in schema.NON_NEGATIVE:
        return ">= 0"
    return ""


def rows():
    """(key, default, allowed, description) of every key, sections in schema order, method sections last."""
    out = []

    def walk(cls, prefix):
        comments = _comments(cls)
        nested = []
        for field in dataclasses.fields(cls):
            default = _default(field)
            if default is None:  # a sub-section (distill.dkd): after the section's own keys
                nested.append(field)
                continue
            dotted = f"{prefix}{field.name}"
            text = comments.get(field.name, "")
            for base in cls.__mro__[1:]:
                if not text and dataclasses.is_dataclass(base):
                    text = _comments(base).get(field.name, "")
            out.append((dotted, default, _rule(dotted), text))
        for field in nested:
            walk(field.default_factory().__class__, f"{prefix}{field.name}.")

    for field in dataclasses.fields(schema.Config):
        walk(field.default_factory().__class__, f"{field.name}.")
    return out


def markdown():
    lines = ["| key | default | allowed | what it does |", "|---|---|---|---|"]
    for key, default, allowed, text in rows():
        text = text.replace("|", "/").replace("None", "null")
        lines.append(f"| `{key}` | {default or '-'} | {allowed or '-'} | {text or '-'} |")
    return "\n".join(lines)
