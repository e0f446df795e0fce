"""Reference for hw8_metric_learning, written from docs/contract/hw8_metric_learning.md.

Independent of the notebook's solution cells: PyTorch's own routines where they exist (torch.special.xlogy,
F.kl_div, F.binary_cross_entropy_with_logits, torch.cdist, nn.TripletMarginLoss).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(p, p).sum(dim=-1)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return F.kl_div(q.log(), p, reduction="none").sum(dim=-1)


def cross_entropy(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(p, q).sum(dim=-1)


def binary_cross_entropy_with_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, y)


def knn_predict(train_X: torch.Tensor, train_y: torch.Tensor, X: torch.Tensor, k: int) -> torch.Tensor:
    dist = torch.cdist(X.double(), train_X.double())
    order = dist.argsort(dim=1, stable=True)[:, :k]           # nearest first
    votes = train_y[order]                                     # (m, k)
    predictions = []
    for row in votes.tolist():                                 # the reference may loop: clarity over speed
        counts: dict[int, int] = {}
        for label in row:
            counts[label] = counts.get(label, 0) + 1
        best = max(counts.values())
        predictions.append(next(label for label in row if counts[label] == best))  # nearest of the tied
    return torch.tensor(predictions, dtype=torch.int64, device=X.device)


def contrastive_loss(x1: torch.Tensor, x2: torch.Tensor, same: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    d = torch.linalg.vector_norm(x1 - x2, dim=1)
    return torch.lerp(F.relu(margin - d).square(), d.square(), same).mean()


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                 margin: float = 1.0) -> torch.Tensor:
    return nn.TripletMarginLoss(margin=margin)(anchor, positive, negative)


def batch_hard_triplet_loss(embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    n = embeddings.shape[0]
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    dist = diff.square().sum(-1).clamp_min(1e-30).sqrt()      # no NaN gradient on the zero diagonal
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(n, dtype=torch.bool, device=embeddings.device)
    positive, negative = same & ~eye, ~same
    valid = positive.any(1) & negative.any(1)
    if not valid.any():
        return embeddings.sum() * 0
    hardest_pos = dist.masked_fill(~positive, float("-inf")).amax(1)
    hardest_neg = dist.masked_fill(~negative, float("inf")).amin(1)
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


# ----- Liu Er's 加载数据集: a Dataset over a CSV file, and the DataLoader loop -------------------------------------
class CSVDataset(torch.utils.data.Dataset):
    """Rows of comma-separated numbers, no header; features = all columns but the last, label = the last (1,)."""

    def __init__(self, path: str):
        import csv
        with open(path, newline="") as fh:
            rows = [[float(v) for v in row] for row in csv.reader(fh) if row]
        table = torch.tensor(rows, dtype=torch.float32).reshape(len(rows), -1)
        self.features, self.labels = table[:, :-1], table[:, -1:]

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int):
        return self.features[index], self.labels[index]


def epoch_loop(dataset, batch_size: int, epochs: int, shuffle: bool = True) -> dict:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)
    labels = [[y for _, y in loader] for _ in range(epochs)]
    per_epoch = -(-len(dataset) // batch_size)  # the notes' len / batch-size, rounded up: the last batch is smaller
    return {"epochs": epochs, "iterations_per_epoch": per_epoch, "iterations": epochs * per_epoch, "labels": labels}


# ----- the open part: an embedding network trained with the triplet loss, classified by KNN -------------------
HYPERPARAMS = {"lr": 2e-3, "batch_size": 128, "epochs": 8, "margin": 0.5}


def build_embedder() -> nn.Module:
    """Two convolution blocks (LeNet-like, with ReLU, max pooling and batch normalisation), a 32-d embedding."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 32))


def train_embedder(model: nn.Module, train_loader, hyperparams: dict, device) -> list[dict]:
    """Adam on the batch-hard triplet loss (this file's own), one history row per epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=hyperparams["lr"])
    history = []
    for epoch in range(1, hyperparams["epochs"] + 1):
        model.train()
        total, batches = 0.0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            loss = batch_hard_triplet_loss(model(X), y, hyperparams["margin"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        history.append({"epoch": epoch, "loss": total / max(batches, 1)})
    return history
