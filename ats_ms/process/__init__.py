"""A command's process, prepared before MindSpore runs its first operation: environment defaults (``_env``), the
CPU instruction set oneDNN may use (``cpu_isa``), the CUDA 11 libraries of the GPU plugin (``gpu_libs``), and the
one call every command makes once it knows its configs (``startup.prepare_process``)."""
