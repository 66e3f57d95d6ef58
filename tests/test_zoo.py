"""Published teachers by name: the CIFAR-10/100 ResNets of chenyaofo/pytorch-cifar-models recognised by their release
names, and ``python -m ats_ms.zoo`` / ``convert --from`` fetching a release file from a server (loopback only), with
its SHA-256 checked against its name before anything is converted."""
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import mindspore as ms

from ats_ms.engine.checkpoint import read_meta
from ats_ms.engine.import_model import convert
from ats_ms.interop import zoo
from ats_ms.models import create_model, normalization
from conftest import SHARED


def _command(module, args, capsys):
    """Run a command in this process (the tests register a release under a test file's hash); returns
    (exit code, stdout, stderr)."""
    from ats_ms.cli import run_cli
    code = run_cli(module.main, list(args))
    out = capsys.readouterr()
    return code, out.out, out.err

pytestmark = pytest.mark.torch  # reading PyTorch files needs torch: skipped without it, run by CI's torch job
torch = pytest.importorskip("torch", reason="reading PyTorch checkpoints needs torch (CI's torch job installs it)")
from ats_ms.interop.torch_reference import RefResNet, randomise_batchnorm  # noqa: E402

CHENYAOFO = os.path.join(SHARED, "data", "pretrained", "cifar100-resnet-chenyaofo", "cifar100_resnet56-f2eff4c8.pt")
# The normalisation of that repository's training configs, written here from them (not read from ats_ms).
TRAINED_WITH = {"cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
                "cifar100": ((0.5070, 0.4865, 0.4409), (0.2673, 0.2564, 0.2761))}


def _fake(folder, dataset, depth, seed=0):
    """A seeded network of the family saved as the release saves it (a plain state dict), under a release-style
    name whose hash is not the file's."""
    torch.manual_seed(seed)
    ref = randomise_batchnorm(RefResNet(depth, (16, 16, 32, 64), 10 if dataset == "cifar10" else 100)).eval()
    path = folder / f"{dataset}_resnet{depth}-00000000.pt"
    torch.save(ref.state_dict(), path)
    return ref, path


@pytest.mark.parametrize("dataset,depth", [("cifar10", 20), ("cifar100", 32), ("cifar10", 44), ("cifar100", 56)])
def test_a_release_file_is_recognised_by_its_name_with_its_normalisation(tmp_path, dataset, depth):
    ref, path = _fake(tmp_path, dataset, depth)
    out = tmp_path / "converted.ckpt"
    _, arch, classes, unused, notes = convert(None, str(path), str(out))  # no --arch: recognised
    assert (arch, classes, unused) == (f"resnet{depth}", 10 if dataset == "cifar10" else 100, [])
    assert any("chenyaofo/pytorch-cifar-models" in n for n in notes)
    assert any("not the published file" in n for n in notes)
    meta, params = read_meta(str(out))
    assert normalization.recorded(meta) == TRAINED_WITH[dataset]
    net = create_model(arch, classes)
    ms.load_param_into_net(net, {k: v for k, v in params.items() if "." in k})
    net.set_train(False)
    x = np.random.RandomState(1).randn(4, 3, 32, 32).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(ms.Tensor(x)).asnumpy(), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_a_plain_state_dict_under_another_name_is_not_taken_for_the_family(tmp_path):
    _, path = _fake(tmp_path, "cifar100", 20)
    renamed = tmp_path / "my_resnet20.pt"
    os.replace(path, renamed)
    with pytest.raises(Exception, match="--arch"):
        convert(None, str(renamed), str(tmp_path / "x.ckpt"))


@pytest.mark.skipif(not os.path.isfile(CHENYAOFO), reason="needs the published CIFAR-100 ResNet-56 in ../shared")
def test_the_published_cifar100_resnet56_is_recognised_as_published(tmp_path):
    _, arch, classes, _, notes = convert(None, CHENYAOFO, str(tmp_path / "r56.ckpt"))
    assert (arch, classes) == ("resnet56", 100)
    assert any("published top-1 72.63 % on the CIFAR-100 test set; the file is byte for byte the published one" in n
               for n in notes), notes
    assert normalization.recorded(read_meta(str(tmp_path / "r56.ckpt"))[0]) == TRAINED_WITH["cifar100"]


class _Files(http.server.SimpleHTTPRequestHandler):
    """Serves the bytes in ``files`` by name and counts the requests."""
    files, requests = {}, []

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        self.requests.append(name)
        if name not in self.files:
            self.send_error(404)
            return
        body = self.files[name]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Files.files, _Files.requests = {}, []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/releases/", _Files
    httpd.shutdown()


def _published_name_for(payload, monkeypatch, name="cifar100_resnet20"):
    """Register the release of ``name`` under a file name whose hash is ``payload``'s, as a real release's is."""
    digest = hashlib.sha256(payload).hexdigest()[:8]
    teacher = zoo.TEACHERS[name]
    entry = zoo.Teacher(name, f"{name}-{digest}.pt", teacher.url, teacher.arch, teacher.dataset, teacher.top1,
                        teacher.source)
    monkeypatch.setitem(zoo.TEACHERS, name, entry)
    return entry


def test_zoo_get_downloads_checks_and_converts_then_reuses_the_download(tmp_path, server, monkeypatch, capsys):
    from ats_ms import zoo as zoo_command
    mirror, files = server
    _, path = _fake(tmp_path, "cifar100", 20)
    payload = path.read_bytes()
    entry = _published_name_for(payload, monkeypatch)
    files.files[entry.file] = payload
    monkeypatch.setenv("ATS_MS_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "teachers"
    for _ in range(2):
        code, stdout, stderr = _command(zoo_command, ["get", "cifar100_resnet20", "--output", str(out), "--mirror",
                                                      mirror], capsys)
        assert code == 0, stderr
        assert "cifar100_resnet20 -> " in stdout and "resnet20, 100 classes" in stdout
    assert files.requests == [entry.file]  # the second get reused the checked download
    meta, _ = read_meta(str(out / "cifar100_resnet20.ckpt"))
    assert meta["arch"] == "resnet20" and normalization.recorded(meta) == TRAINED_WITH["cifar100"]
    assert os.listdir(tmp_path / "cache" / "zoo") == [entry.file]


def test_a_download_that_is_not_the_release_is_refused_and_nothing_converted(tmp_path, server, monkeypatch,
                                                                             capsys):
    from ats_ms import convert as convert_command
    mirror, files = server
    _, path = _fake(tmp_path, "cifar100", 20)
    entry = _published_name_for(b"the bytes the name promises", monkeypatch)
    files.files[entry.file] = path.read_bytes()  # other bytes under the release's name
    monkeypatch.setenv("ATS_MS_CACHE_DIR", str(tmp_path / "cache"))
    code, _, stderr = _command(convert_command, ["--from", "cifar100_resnet20", "--output", str(tmp_path / "t.ckpt"),
                                                 "--mirror", mirror], capsys)
    assert code == 2
    stderr = " ".join(stderr.split())
    assert "it is not the published file" in stderr and "nothing was converted" in stderr
    assert not (tmp_path / "t.ckpt").exists()
    assert os.listdir(tmp_path / "cache" / "zoo") == [entry.file + ".bad"]


def test_unknown_names_and_unreachable_releases_are_named(tmp_path, server, monkeypatch, capsys):
    from ats_ms import zoo as zoo_command
    mirror, _ = server
    monkeypatch.setenv("ATS_MS_CACHE_DIR", str(tmp_path))
    code, _, stderr = _command(zoo_command, ["get", "cifar100_resnet65"], capsys)
    assert code == 2 and "Did you mean cifar100_resnet56" in " ".join(stderr.split())
    code, _, stderr = _command(zoo_command, ["get", "he2016_resnet20", "--mirror", mirror, "--output",
                                             str(tmp_path / "t")], capsys)
    stderr = " ".join(stderr.split())
    assert code == 2 and "HTTP 404" in stderr and "download https://github.com/akamaster" in stderr


@pytest.mark.skipif(not os.path.isfile(CHENYAOFO), reason="needs the published CIFAR-100 ResNet-56 in ../shared")
def test_the_real_release_file_passes_its_own_hash_check(tmp_path, server, monkeypatch, capsys):
    from ats_ms import convert as convert_command
    mirror, files = server
    files.files[os.path.basename(CHENYAOFO)] = open(CHENYAOFO, "rb").read()
    monkeypatch.setenv("ATS_MS_CACHE_DIR", str(tmp_path / "cache"))
    code, stdout, stderr = _command(convert_command, ["--from", "cifar100_resnet56", "--output",
                                                      str(tmp_path / "r56.ckpt"), "--mirror", mirror], capsys)
    assert code == 0, stderr
    assert "published top-1 72.63 %" in stdout
