"""What every layer of ats_ms may import, none of it MindSpore: the user-facing error types (``errors``), the one
table of network names (``model_names``), optional dependencies imported where used (``optional``) and the
signal that asked a run to stop (``signals``)."""
