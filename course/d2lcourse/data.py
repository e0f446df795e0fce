"""Fashion-MNIST from a local data root, and a stand-in data set for when it is absent.

The real path is torchvision's ``FashionMNIST(root, download=False)``: the four raw IDX files under
``<data root>/FashionMNIST/raw/``. Nothing is ever downloaded here; ``python -m d2lcourse download``
does that, on a machine with internet, on purpose.

The fallback is scikit-learn's digits (1,797 real 8x8 scans of handwritten digits that ship inside
the scikit-learn wheel), upsampled to 28x28: the same shapes as Fashion-MNIST, (N, 1, 28, 28) images
in [0, 1] and ten classes, so every notebook and test runs anywhere. Its accuracies are not
Fashion-MNIST's, and loaders say loudly when they use it.
"""
from __future__ import annotations

import gzip
import os
import shutil
import struct
import sys
from pathlib import Path

import torch

from .config import resolve_data_root

FASHION_MNIST_LABELS = ["t-shirt", "trouser", "pullover", "dress", "coat",
                        "sandal", "shirt", "sneaker", "bag", "ankle boot"]
RAW_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
FALLBACK_NAME = "fallback: scikit-learn digits upsampled to 28x28"


class DataNotFound(FileNotFoundError):
    """Fashion-MNIST is not in the data root; the message says where we looked and how to get it."""


def get_fashion_mnist_labels(labels) -> list[str]:
    """Text labels of Fashion-MNIST class indices (d2l 3.5)."""
    return [FASHION_MNIST_LABELS[int(i)] for i in labels]


def _raw_folder(root: Path) -> Path:
    return root / "FashionMNIST" / "raw"


def _ensure_uncompressed(raw: Path, name: str) -> bool:
    """torchvision reads the uncompressed files; unpack a ``.gz`` copy if that is what is there."""
    if (raw / name).is_file():
        return True
    packed = raw / f"{name}.gz"
    if not packed.is_file():
        return False
    with gzip.open(packed, "rb") as src, open(raw / name, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return True


def _not_found_message(root: Path, source: str, missing: list[str]) -> str:
    return (
        f"Fashion-MNIST was not found in {_raw_folder(root)} (missing: {', '.join(missing)}).\n"
        f"The data root {root} comes from {source}; set it with $D2L_DATA_ROOT or data_root = \"...\" in "
        "d2lcourse.toml.\nData is never downloaded while grading. On a machine with internet, run\n"
        f"    python -m d2lcourse download --root {root}\n"
        "and copy the FashionMNIST folder it makes into this machine's data root."
    )


def fashion_mnist(train: bool = True, root: str | os.PathLike | None = None, resize: int | None = None):
    """The Fashion-MNIST training or test set through torchvision, from the local data root."""
    import torchvision
    from torchvision import transforms

    root_path, source = resolve_data_root(root)
    raw = _raw_folder(root_path)
    missing = [n for pair in RAW_FILES.values() for n in pair if not _ensure_uncompressed(raw, n)] if raw.is_dir() \
        else [n for pair in RAW_FILES.values() for n in pair]
    if missing:
        raise DataNotFound(_not_found_message(root_path, source, missing))
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    return torchvision.datasets.FashionMNIST(root=str(root_path), train=train, transform=transforms.Compose(trans),
                                             download=False)


class _FallbackDataset(torch.utils.data.TensorDataset):
    classes = [str(i) for i in range(10)]
    source = FALLBACK_NAME


def fallback_datasets(resize: int | None = None, train_fraction: float = 0.8, seed: int = 0):
    """(train, test) datasets shaped like Fashion-MNIST, from scikit-learn's digits; deterministic split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8) in [0, 1]
    size = resize or 28
    images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    images = images.clamp_(0.0, 1.0)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    cut = int(train_fraction * len(labels))
    train_idx, test_idx = order[:cut], order[cut:]
    return (_FallbackDataset(images[train_idx], labels[train_idx]),
            _FallbackDataset(images[test_idx], labels[test_idx]))


def load_data_fashion_mnist(batch_size: int, resize: int | None = None, root: str | os.PathLike | None = None,
                            fallback: bool = True, num_workers: int = 0):
    """(train_iter, test_iter) DataLoaders over Fashion-MNIST (d2l 3.5), or over the fallback set.

    With ``fallback=False`` a missing data set raises ``DataNotFound`` instead. Each loader's
    ``source`` attribute says which data it reads.
    """
    try:
        train, test = fashion_mnist(True, root, resize), fashion_mnist(False, root, resize)
        source = "Fashion-MNIST"
    except DataNotFound as exc:
        if not fallback:
            raise
        lines = str(exc).splitlines()
        fix = next((line.strip() for line in lines if "python -m d2lcourse download" in line), "")
        print(f"[d2lcourse] {lines[0]}\n[d2lcourse] To get it, on a machine with internet: {fix}\n"
              f"[d2lcourse] Using the {FALLBACK_NAME} instead: same shapes and ten classes, but accuracies are "
              "not comparable with Fashion-MNIST.", file=sys.stderr)
        train, test = fallback_datasets(resize)
        source = FALLBACK_NAME
    loaders = []
    for dataset, shuffle in ((train, True), (test, False)):
        loader = torch.utils.data.DataLoader(dataset, batch_size, shuffle=shuffle, num_workers=num_workers)
        loader.source = source
        loaders.append(loader)
    return tuple(loaders)


# ----- raw IDX files: writing them (tests, the CSV sample) and downloading them ---------------------
def write_idx(path: Path, array: torch.Tensor) -> None:
    """Write a uint8 tensor as an IDX file (the raw MNIST format): images (N, 28, 28) or labels (N,)."""
    array = array.to(torch.uint8).contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(struct.pack(">HBB", 0, 0x08, array.dim()))
        fh.write(struct.pack(f">{array.dim()}I", *array.shape))
        fh.write(array.numpy().tobytes())


def write_fashion_mnist_root(root: Path, train: tuple[torch.Tensor, torch.Tensor],
                             test: tuple[torch.Tensor, torch.Tensor]) -> Path:
    """Lay out (images, labels) pairs as torchvision expects them under ``root``; returns the raw folder."""
    raw = _raw_folder(Path(root))
    for is_train, (images, labels) in ((True, train), (False, test)):
        img_name, lbl_name = RAW_FILES[is_train]
        write_idx(raw / img_name, images)
        write_idx(raw / lbl_name, labels)
    return raw


def read_idx(path: Path) -> torch.Tensor:
    """A uint8 IDX file (``write_idx``'s format; ``.gz`` too) as a tensor of its shape."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    zero, kind, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path} is not a uint8 IDX file")
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


PRIVATE_FILES = ("images-idx3-ubyte", "labels-idx1-ubyte")


def labelled_images(folder: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor]:
    """A folder of held-out images (the course's ``private_test``): ``images-idx3-ubyte`` (N, 28, 28) and
    ``labels-idx1-ubyte`` (N,), each possibly ``.gz``; as (N, 1, 28, 28) float32 in [0, 1] and int64."""
    folder = Path(folder)
    found = []
    for name in PRIVATE_FILES:
        candidates = [folder / name, folder / f"{name}.gz"]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise DataNotFound(f"the private test set in {folder} has no {name} (or {name}.gz); write it with "
                               "d2lcourse.data.write_idx (images uint8 (N, 28, 28), labels uint8 (N,))")
        found.append(read_idx(path))
    images, labels = found
    if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
        raise ValueError(f"the private test set in {folder}: images {tuple(images.shape)} and labels "
                         f"{tuple(labels.shape)} do not make (N, 28, 28) images with N labels")
    return images.unsqueeze(1).float() / 255, labels.long()


def read_csv_sample(csv_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) from a ``label,pixel1,...,pixel784`` CSV."""
    rows = Path(csv_path).read_text().strip().splitlines()[1:]
    values = torch.tensor([[int(v) for v in row.split(",")] for row in rows], dtype=torch.int64)
    return values[:, 1:].reshape(-1, 28, 28).to(torch.uint8), values[:, 0]


def download(root: Path) -> None:
    """Fetch Fashion-MNIST with torchvision (needs internet; never called while grading)."""
    import torchvision
    for train in (True, False):
        torchvision.datasets.FashionMNIST(root=str(root), train=train, download=True)
