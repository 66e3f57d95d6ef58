"""The PyTorch twin of a run (``python -m ats_ms.twin``): the same run trained in ats_ms and in PyTorch from the
same weights on the same batches, so that a result can be told apart from a porting error.  Needs the torch
extra."""
