"""Entry scripts for launchers that need a script path rather than ``python -m`` (msrun)."""
