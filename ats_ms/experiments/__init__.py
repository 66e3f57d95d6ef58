"""Experiments made of several runs: a sweep over a grid (``grid``, ``sweep``), a teacher-assistant chain (``chain``)
and the quick start (``quickstart``); the commands ``sweep``, ``chain`` and ``train`` (with no config) run them."""
