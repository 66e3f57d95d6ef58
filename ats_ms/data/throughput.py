"""Input-pipeline speed, shared by ``python -m ats_ms.data --throughput`` and ``ats_ms.bench``."""
import time


def pipeline_throughput(dataset, max_batches=200, warmup=5):
    """Images per second pulled through the whole pipeline (decode, augmentation, batching), timed over
    up to ``max_batches`` batches after ``warmup`` untimed ones; NaN if the dataset has none to time."""
    if max_batches < 1:
        raise ValueError("max_batches must be at least 1")
    it = dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)
    images, timed, start = 0, 0, None
    for i, (batch, _) in enumerate(it):
        if i < warmup:
            continue
        if start is None:
            start = time.perf_counter()  # the clock starts when the first timed batch is requested
            continue
        images += len(batch)
        timed += 1
        if timed >= max_batches:
            break
    if not timed:
        return float("nan")
    return images / (time.perf_counter() - start)
