"""Results of finished runs, read from their folders: finding runs, grouping seeds of one setting, tables,
figures, and the capacity-mismatch study's selection on the validation split.  ``python -m ats_ms.report``
is the command over this package."""
