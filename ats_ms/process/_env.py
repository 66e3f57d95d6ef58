"""Process-wide environment defaults that must be in place before MindSpore loads.

``GLOG_v``: MindSpore's C++ logger prints pages of warnings at its default level; 3 keeps errors only.  It is
set with ``setdefault``, so a user's own value wins, and ``USER_VALUES`` remembers what the user's environment
held, so a process that must run as the user started it (``bench --torch``'s PyTorch worker) gets that back.
Nothing that changes what a run computes is set in the environment: the CPU instruction set is chosen per
process inside it (``ats_ms.process.cpu_isa``).
"""
import os

DEFAULTS = {"GLOG_v": "3"}
USER_VALUES = {}  # variable -> the user's value, or None when the user had not set it


def apply_defaults():
    for name, value in DEFAULTS.items():
        USER_VALUES.setdefault(name, os.environ.get(name))
        os.environ.setdefault(name, value)


def user_environment(base=None):
    """``base`` (default: this process's environment) with ats_ms's defaults taken back out."""
    env = dict(os.environ if base is None else base)
    for name, value in USER_VALUES.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
