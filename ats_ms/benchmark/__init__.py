"""What a step costs, measured (``python -m ats_ms.bench``): each measurement runs in a process of its own, with
the environment it needs (the CPU instruction-set cap of the convolution it times; the user's own environment
for PyTorch), so no measurement is distorted by another's settings."""
