"""ats_ms.data: both CIFAR formats on generated files (pixels, labels, shuffling, augmentation, normalisation,
sharding, seeds), digits, image folders, the errors for broken data, and the download path against a local server."""
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

from ats_ms.config.schema import DataConfig
from ats_ms.data import create_dataset
from ats_ms.data.digits import load_digits_split
from ats_ms.data.download import ensure_release, md5sum
from ats_ms.common.errors import DatasetError
from cifar_fixtures import random_split, write_binary, write_python

RAW = dict(mean=[0.0, 0.0, 0.0], std=[1 / 255.0] * 3)  # normalisation that returns raw pixel values


def _read_all(cfg, split, **kw):
    data, info = create_dataset(cfg, split, **kw)
    images, labels = [], []
    for img, lab in data.create_tuple_iterator(num_epochs=1, output_numpy=True):
        images.append(img)
        labels.append(lab)
    return np.concatenate(images), np.concatenate(labels), info


def _as_chw(images):
    return images.transpose(0, 3, 1, 2).astype(np.float32)


@pytest.fixture(scope="module")
def both_formats(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("cifar"))
    data = {}
    for name, classes in (("cifar10", 10), ("cifar100", 100)):
        train, test = random_split(40, classes, 1), random_split(37, classes, 2)
        write_binary(root, name, train, test)
        write_python(root, name, train, test)
        data[name] = (train, test)
    return root, data


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
@pytest.mark.parametrize("fmt", ["binary", "python"])
def test_pixels_and_labels_round_trip(both_formats, name, fmt):
    root, data = both_formats
    (_, _), (test_x, test_y) = data[name]
    cfg = DataConfig(name=name, root=root, format=fmt, test_samples=37, eval_batch_size=16, **RAW)
    images, labels, info = _read_all(cfg, "test")
    assert images.dtype == np.float32 and images.shape == (37, 3, 32, 32)
    np.testing.assert_array_equal(images, _as_chw(test_x))
    np.testing.assert_array_equal(labels, test_y)  # CIFAR-100: fine labels, never coarse
    assert info.num_classes == (10 if name == "cifar10" else 100)
    assert info.batches_per_epoch == 3  # 16 + 16 + 5: the remainder is kept for evaluation


def test_train_split_holds_the_written_images_shuffled(both_formats):
    root, data = both_formats
    (train_x, train_y), _ = data["cifar10"]
    cfg = DataConfig(name="cifar10", root=root, train_samples=40, batch_size=8, augment=False, **RAW)
    images, labels, info = _read_all(cfg, "train", seed=3)
    assert info.batches_per_epoch == 5 and len(labels) == 40
    order = [int(np.argmin(np.abs(_as_chw(train_x) - img).reshape(40, -1).sum(1))) for img in images]
    assert sorted(order) == list(range(40)) and order != list(range(40))
    np.testing.assert_array_equal(labels, train_y[order])


def test_auto_prefers_binary_and_format_can_be_forced(both_formats):
    root, _ = both_formats
    assert create_dataset(DataConfig(name="cifar10", root=root), "test")[1].location.endswith("batches-bin")
    forced = create_dataset(DataConfig(name="cifar10", root=root, format="python"), "test")[1]
    assert forced.location.endswith("batches-py")


def test_augmentation_statistics(both_formats):
    root, data = both_formats
    (train_x, _), _ = data["cifar10"]
    src = _as_chw(train_x)
    # Flip only: about half of the images come out mirrored.
    cfg = DataConfig(name="cifar10", root=root, train_samples=40, batch_size=40, crop_padding=0, **RAW)
    flipped = total = 0
    for epoch in range(6):
        images, _, _ = _read_all(cfg, "train", seed=epoch)
        for img in images:
            idx = int(np.argmin(np.minimum(np.abs(src - img).reshape(40, -1).sum(1),
                                           np.abs(src[..., ::-1] - img).reshape(40, -1).sum(1))))
            flipped += int(np.array_equal(img, src[idx][..., ::-1]))
            total += 1
    assert 0.35 < flipped / total < 0.65, flipped / total
    # Crop only: every output is the source shifted by at most 4 pixels with zero fill.
    cfg = DataConfig(name="cifar10", root=root, train_samples=40, batch_size=40, hflip=False, **RAW)
    shifts = set()
    for epoch in range(5):
        images, labels, _ = _read_all(cfg, "train", seed=epoch)
        for img in images:
            padded = np.pad(src, ((0, 0), (0, 0), (4, 4), (4, 4)))
            found = [(n, dy, dx) for n in range(40) for dy in range(9) for dx in range(9)
                     if np.array_equal(padded[n, :, dy:dy + 32, dx:dx + 32], img)]
            assert found, "augmented image is not a padded crop of any source image"
            shifts.add(found[0][1:])
    assert len(shifts) > 40  # of the 81 possible offsets


def test_normalisation_uses_spec_constants(both_formats):
    root, data = both_formats
    _, (test_x, _) = data["cifar100"]
    images, _, info = _read_all(DataConfig(name="cifar100", root=root, test_samples=5), "test")
    mean, std = np.array([0.5071, 0.4867, 0.4408]), np.array([0.2675, 0.2565, 0.2761])
    expected = (_as_chw(test_x[:5]) / 255.0 - mean[:, None, None]) / std[:, None, None]
    np.testing.assert_allclose(images, expected, atol=1e-4)
    assert info.mean == (0.5071, 0.4867, 0.4408)


def test_same_seed_same_batches(both_formats):
    root, _ = both_formats
    cfg = DataConfig(name="cifar10", root=root, train_samples=40, batch_size=8)
    a, _, _ = _read_all(cfg, "train", seed=7)
    b, _, _ = _read_all(cfg, "train", seed=7)
    c, _, _ = _read_all(cfg, "train", seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sharding_splits_training_data(both_formats):
    root, _ = both_formats
    cfg = DataConfig(name="cifar10", root=root, train_samples=40, batch_size=4, augment=False, **RAW)
    shards = [_read_all(cfg, "train", num_shards=2, shard_id=r, seed=0)[0] for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 20
    keys = [{img.tobytes() for img in s} for s in shards]
    assert not keys[0] & keys[1] and len(keys[0] | keys[1]) == 40


def test_digits_builtin_dataset():
    train_x, train_y = load_digits_split("train")
    test_x, test_y = load_digits_split("test")
    assert len(train_y) + len(test_y) == 1797 and len(test_y) == 359
    assert train_x.shape[1:] == (8, 8, 3) and np.array_equal(train_x[..., 0], train_x[..., 2])
    assert set(np.unique(test_y)) == set(range(10))
    again, _ = load_digits_split("test")
    np.testing.assert_array_equal(again, test_x)
    data, info = create_dataset(DataConfig(name="digits", batch_size=32), "train", seed=0)
    img, lab = next(data.create_tuple_iterator(num_epochs=1, output_numpy=True))
    assert img.shape == (32, 3, 8, 8) and info.num_classes == 10 and info.batches_per_epoch == len(train_y) // 32


def _write_folder(root, sizes):
    for split in ("train", "val"):
        for c, cls in enumerate(("cat", "dog", "emu")):
            d = os.path.join(root, split, cls)
            os.makedirs(d, exist_ok=True)
            for i, size in enumerate(sizes):
                mode = "L" if i == 0 else "RGB"
                arr = np.full((size, size, 3 if mode == "RGB" else 1), 40 * c + i, np.uint8).squeeze()
                Image.fromarray(arr, mode).save(os.path.join(d, f"{i}.{'png' if i % 2 else 'jpg'}"))


def test_image_folder_any_size_and_class_index(tmp_path):
    root = str(tmp_path / "folder")
    _write_folder(root, [20, 48, 64, 31])
    cfg = DataConfig(name="image_folder", root=root, image_size=16, eval_batch_size=5, **RAW)
    images, labels, info = _read_all(cfg, "test")
    assert images.shape == (12, 3, 16, 16) and info.class_names == ["cat", "dog", "emu"]
    assert sorted(labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    data, info = create_dataset(cfg, "train", batch_size=4)
    assert next(data.create_tuple_iterator(num_epochs=1, output_numpy=True))[0].shape == (4, 3, 16, 16)
    assert info.batches_per_epoch == 3


def _expect(match, cfg, split="test"):
    with pytest.raises(DatasetError, match=match):
        create_dataset(cfg, split)


def test_bad_inputs_give_clear_errors(tmp_path, both_formats):
    root, data = both_formats
    _expect("does not exist", DataConfig(name="cifar10", root=str(tmp_path / "nope")))
    _expect("No CIFAR10 release found", DataConfig(name="cifar10", root=str(tmp_path)))
    only100 = tmp_path / "only100"
    write_binary(str(only100), "cifar100", *data["cifar100"])
    _expect("holds CIFAR100.*Set data.name=cifar100", DataConfig(name="cifar10", root=str(only100)))
    # truncated binary file
    trunc = tmp_path / "trunc"
    path = write_binary(str(trunc), "cifar10", *data["cifar10"])
    with open(os.path.join(path, "test_batch.bin"), "r+b") as f:
        f.truncate(3073 * 9999)
    _expect("test_batch.bin' has 30726927 bytes.*truncated", DataConfig(name="cifar10", root=str(trunc)))
    # a label byte outside the class range
    badlab = tmp_path / "badlab"
    path = write_binary(str(badlab), "cifar10", *data["cifar10"])
    with open(os.path.join(path, "test_batch.bin"), "r+b") as f:
        f.seek(3073 * 3)
        f.write(bytes([12]))
    _expect("record 3 has label 12", DataConfig(name="cifar10", root=str(badlab), test_samples=10))
    # corrupt pickle
    corrupt = tmp_path / "corrupt"
    path = write_python(str(corrupt), "cifar10", *data["cifar10"])
    with open(os.path.join(path, "test_batch"), "r+b") as f:
        f.truncate(100)
    _expect("test_batch' cannot be read.*corrupt", DataConfig(name="cifar10", root=str(corrupt)))
    # a CIFAR-100 pickle under a CIFAR-10 name
    wrong = tmp_path / "wrong" / "cifar-10-batches-py"
    wrong.mkdir(parents=True)
    with open(wrong / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 1]}, f)
    _expect("expected keys 'data' and 'labels'", DataConfig(name="cifar10", root=str(wrong.parent)))
    # unreadable image in a folder
    folder = tmp_path / "folder"
    _write_folder(str(folder), [8])
    (folder / "val" / "dog" / "broken.jpg").write_bytes(b"not a jpeg")
    _expect("broken.jpg' cannot be decoded", DataConfig(name="image_folder", root=str(folder)))
    (folder / "val" / "dog" / "broken.jpg").unlink()
    (folder / "val" / "yak").mkdir()
    Image.new("RGB", (8, 8)).save(folder / "val" / "yak" / "a.png")
    _expect("class folders \\['yak'\\] that are not in", DataConfig(name="image_folder", root=str(folder)))
    _expect("no train/ folder", DataConfig(name="image_folder", root=str(tmp_path)))


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves one archive from memory and honours a ``Range: bytes=N-`` request."""
    payload = b""
    ranges_seen = []

    def do_GET(self):  # noqa: N802
        start = 0
        header = self.headers.get("Range")
        if header:
            start = int(header.split("=")[1].rstrip("-"))
            self.ranges_seen.append(start)
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_download_verifies_md5_resumes_and_extracts_atomically(tmp_path, both_formats):
    src_root, data = both_formats
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(os.path.join(src_root, "cifar-10-batches-py"), arcname="cifar-10-batches-py")
    payload = buf.getvalue()
    _RangeHandler.payload = payload
    server = http.server.HTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/cifar-10-python.tar.gz"
    try:
        import hashlib
        good_md5 = hashlib.md5(payload).hexdigest()
        root = tmp_path / "dl"
        # wrong checksum: refused, nothing looks complete
        with pytest.raises(DatasetError, match="has MD5"):
            ensure_release(str(root), "cifar10", "python", url=url, md5="0" * 32)
        assert not (root / "cifar-10-batches-py").exists()
        # an interrupted earlier download is resumed with a Range request
        (root / "cifar-10-python.tar.gz.part").write_bytes(payload[:1000])
        cfg = DataConfig(name="cifar10", root=str(root), format="python", download=True, url=url, md5=good_md5,
                         test_samples=37, **RAW)
        images, labels, _ = _read_all(cfg, "test")
        assert 1000 in _RangeHandler.ranges_seen
        assert md5sum(str(root / "cifar-10-python.tar.gz")) == good_md5
        np.testing.assert_array_equal(labels, data["cifar10"][1][1])
        assert not [p for p in os.listdir(root) if p.startswith(".extract-") or p.endswith(".part")]
    finally:
        server.shutdown()


def test_a_download_that_never_starts_claims_no_partial_file(tmp_path):
    """A refused connection (as with no DNS): no byte arrived, so no partial file is promised."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections to it are refused
    root = tmp_path / "dl"
    with pytest.raises(DatasetError) as err:
        ensure_release(str(root), "cifar10", "python", url=f"http://127.0.0.1:{port}/cifar-10-python.tar.gz")
    assert "Nothing was downloaded" in str(err.value) and "partial file" not in str(err.value)
    assert os.listdir(root) == []
