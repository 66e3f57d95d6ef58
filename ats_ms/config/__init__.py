"""Typed, validated run configuration (see ``schema.py`` for every key and its default)."""
from ats_ms.config.loader import config_from_dict, load_config, parse_override, refuse_one_state_for_many, to_dict
from ats_ms.config.schema import Config

__all__ = ["Config", "load_config", "config_from_dict", "parse_override", "refuse_one_state_for_many", "to_dict"]
