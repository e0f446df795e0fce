"""The course's data helpers: Fashion-MNIST through torchvision from a local root, and the fallback."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
import torch

import d2lcourse
from d2lcourse.config import resolve_data_root
from d2lcourse.data import RAW_FILES, read_csv_sample, write_fashion_mnist_root


def _fake_fashion(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8), torch.arange(n) % 10


def test_does_torchvision_read_raw_idx_files_from_the_data_root(tmp_path, monkeypatch):
    train, test = _fake_fashion(30, 0), _fake_fashion(12, 1)
    write_fashion_mnist_root(tmp_path, train, test)
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path))
    train_iter, test_iter = d2lcourse.load_data_fashion_mnist(8, fallback=False)
    assert train_iter.source == "Fashion-MNIST"
    assert len(train_iter.dataset) == 30 and len(test_iter.dataset) == 12
    X, y = next(iter(test_iter))  # the test loader keeps the file's order
    assert X.shape == (8, 1, 28, 28) and X.dtype == torch.float32
    assert torch.equal(X[0, 0], test[0][0].float() / 255) and torch.equal(y, test[1][:8])


def test_are_gzipped_raw_files_unpacked_without_a_download(tmp_path):
    raw = write_fashion_mnist_root(tmp_path, _fake_fashion(5, 0), _fake_fashion(5, 1))
    for name in (n for pair in RAW_FILES.values() for n in pair):
        data = (raw / name).read_bytes()
        (raw / name).unlink()
        with gzip.open(raw / f"{name}.gz", "wb") as fh:
            fh.write(data)
    assert len(d2lcourse.fashion_mnist(train=True, root=tmp_path)) == 5


def test_does_resize_reach_the_transform(tmp_path):
    write_fashion_mnist_root(tmp_path, _fake_fashion(4, 0), _fake_fashion(4, 1))
    X, _ = d2lcourse.fashion_mnist(train=False, root=tmp_path, resize=32)[0]
    assert X.shape == (1, 32, 32)


def test_does_missing_data_say_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path / "empty"))
    with pytest.raises(d2lcourse.DataNotFound) as info:
        d2lcourse.load_data_fashion_mnist(8, fallback=False)
    message = str(info.value)
    assert str(tmp_path / "empty" / "FashionMNIST" / "raw") in message
    assert "python -m d2lcourse download --root" in message and "$D2L_DATA_ROOT" in message
    assert not (tmp_path / "empty").exists(), "nothing may be downloaded or created"


def test_is_the_fallback_shaped_like_fashion_mnist_and_announced(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path))
    train_iter, test_iter = d2lcourse.load_data_fashion_mnist(64)
    assert "fallback" in capsys.readouterr().err
    assert train_iter.source.startswith("fallback")
    X, y = next(iter(train_iter))
    assert X.shape == (64, 1, 28, 28) and X.dtype == torch.float32
    assert 0.0 <= float(X.min()) and float(X.max()) <= 1.0
    labels = torch.cat([y for _, y in test_iter] + [y for _, y in train_iter])
    assert set(labels.tolist()) == set(range(10)) and labels.dtype == torch.int64
    assert len(train_iter.dataset) + len(test_iter.dataset) == 1797


def test_is_the_fallback_split_deterministic():
    a, _ = d2lcourse.fallback_datasets()
    b, _ = d2lcourse.fallback_datasets()
    assert torch.equal(a.tensors[0], b.tensors[0])


def test_is_the_data_root_resolved_in_the_documented_order(tmp_path, monkeypatch):
    course = tmp_path / "course"
    (course / "hw").mkdir(parents=True)
    (course / "d2lcourse.toml").write_text('data_root = "datasets"\n')
    monkeypatch.chdir(course / "hw")
    monkeypatch.delenv("D2L_DATA_ROOT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_data_root() == (course / "datasets", str(course / "d2lcourse.toml"))
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path / "env"))
    assert resolve_data_root()[0] == tmp_path / "env"
    assert resolve_data_root(tmp_path / "arg")[0] == tmp_path / "arg"
    monkeypatch.delenv("D2L_DATA_ROOT")
    monkeypatch.chdir(tmp_path)
    assert resolve_data_root() == (tmp_path / "home" / "d2l-data", "the default")


def test_accumulator_and_timer():
    acc = d2lcourse.Accumulator(2)
    acc.add(1.5, torch.tensor(2))
    acc.add(0.5, 3)
    assert (acc[0], acc[1]) == (2.0, 5.0)
    timer = d2lcourse.Timer()
    assert timer.stop() >= 0 and len(timer.cumsum()) == 1


SAMPLE = os.environ.get("D2L_FASHION_SAMPLE")


@pytest.mark.skipif(not SAMPLE, reason="D2L_FASHION_SAMPLE not set (real Fashion-MNIST sample absent)")
def test_do_real_fashion_mnist_images_load_through_torchvision(tmp_path, monkeypatch):
    images, labels = read_csv_sample(Path(SAMPLE) / "fashion-mnist_test_999.csv")
    assert images.shape[1:] == (28, 28) and len(images) >= 999 and set(labels.tolist()) == set(range(10))
    write_fashion_mnist_root(tmp_path, (images[200:], labels[200:]), (images[:200], labels[:200]))
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path))
    train_iter, test_iter = d2lcourse.load_data_fashion_mnist(50, fallback=False)
    X, y = next(iter(test_iter))
    assert torch.equal((X[:, 0] * 255).round().to(torch.uint8), images[:50]) and torch.equal(y, labels[:50])
    assert d2lcourse.get_fashion_mnist_labels(y[:3]) == [d2lcourse.FASHION_MNIST_LABELS[int(i)] for i in y[:3]]
