"""Input-pipeline speed, shared by ``python -m ats_ms.data --throughput`` and ``ats_ms.bench``."""
import time


def pipeline_throughput(dataset, max_batches=200, warmup=5):
    """Images per second pulled through the whole pipeline (decode, augmentation, batching)."""
    it = dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)
    images, start = 0, None
    for i, (batch, _) in enumerate(it):
        if i == warmup:
            start, images = time.perf_counter(), 0
        images += len(batch)
        if i >= warmup + max_batches:
            break
    if start is None:
        return float("nan")
    return images / (time.perf_counter() - start)
