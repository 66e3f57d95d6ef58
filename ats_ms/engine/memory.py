"""Rough memory figures for choosing how many students a shared-teacher run trains at once.

``student_bytes`` is an estimate, not a measurement: weights, gradients and momentum (4 copies of the
parameters) plus the activations a training step keeps for its backward pass, taken as
``ACTIVATION_FACTOR`` input-image sizes per image.  ``ats_ms.bench --students`` measures the real peak
memory per K; the README records it.
"""
ACTIVATION_FACTOR = 150   # bytes of saved activations per byte of input image, CIFAR-style nets (conservative)
CLASSES = {"cifar10": 10, "cifar100": 100, "digits": 10}


def available_bytes():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil  # pylint: disable=import-outside-toplevel
        return int(psutil.virtual_memory().available)
    except ImportError:
        return 8 * 2 ** 30


def student_bytes(cfg):
    from ats_ms.data import input_size  # pylint: disable=import-outside-toplevel
    from ats_ms.models import count_params, create_model  # pylint: disable=import-outside-toplevel
    classes = cfg.model.num_classes or CLASSES.get(cfg.data.name, 1000)
    params = count_params(create_model(cfg.model.arch, classes))
    side = input_size(cfg.data)
    activations = cfg.data.batch_size * 3 * side * side * 4 * ACTIVATION_FACTOR
    return 16 * params + activations


__all__ = ["available_bytes", "student_bytes"]
