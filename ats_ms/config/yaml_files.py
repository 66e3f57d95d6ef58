"""Reading a YAML config file strictly: a key given twice in one mapping is an error (plain YAML keeps the last
silently), and a document that expands through its aliases to more than ``MAX_YAML_NODES`` values is refused
before it is expanded (a few bytes of nested aliases can stand for billions of values)."""
import yaml

from ats_ms.common.errors import ConfigError

MAX_YAML_NODES = 10_000


class _StrictLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """SafeLoader that refuses a key given twice in one mapping (plain YAML keeps the last silently) and a
    document that expands, through its aliases, to more than ``MAX_YAML_NODES`` values."""

    def construct_document(self, node):
        _check_expanded_size(node)
        return super().construct_document(node)


def _check_expanded_size(root):
    """Count the values ``root`` stands for with every alias expanded, without expanding anything: an alias
    is the same node object as its anchor, so sizes are memoised per node (the count is linear in the file)."""
    sizes = {}

    def size(node):
        key = id(node)
        if key not in sizes:
            sizes[key] = 0  # a recursive alias counts once; PyYAML's constructor refuses recursion itself
            if isinstance(node, yaml.SequenceNode):
                total = 1 + sum(size(child) for child in node.value)
            elif isinstance(node, yaml.MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in node.value)
            else:
                total = 1
            sizes[key] = total
        return sizes[key]

    total = size(root)
    if total > MAX_YAML_NODES:
        raise ConfigError(f"the document expands to more than {MAX_YAML_NODES:,} values ({total:,}) once its YAML "
                          "aliases (*name) are resolved; a config holds a few hundred. Write the values out instead "
                          "of nesting aliases.")


def _mapping_without_duplicates(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"the key '{key}' appears twice in one mapping (lines {seen[key] + 1} and "
                              f"{key_node.start_mark.line + 1}); YAML would silently keep only the second. "
                              "Remove one of them.")
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml_file(path, what="Config file"):
    """A YAML file's content; undecodable text, invalid YAML and duplicate keys are ``ConfigError``s."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} '{path}' is not UTF-8 text (byte {exc.start}: {exc.reason}). Save it as UTF-8.") \
            from None
    except ConfigError as exc:
        raise ConfigError(f"{what} '{path}': {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} '{path}' is not valid YAML: {' '.join(str(exc).split())}") from None
    except OSError as exc:
        raise ConfigError(f"{what} '{path}' cannot be read ({exc.strerror or exc}).") from None
