"""Dark-knowledge analysis of teachers (the 2024 paper's lens): numbers in ``dark_knowledge``,
figures in ``plots``, the command in ``ats_ms.analyze``."""
