"""Reference for hw7_training (d2l 3.6, 5.5, 6.6, and the course's Fashion-MNIST homework).

Written from the contract in CURRICULUM.md, independently of the notebook's solution cells: the
epoch sums go through ``torch.Tensor`` accumulators rather than Python floats, the best weights are
kept as a ``copy.deepcopy`` of the state dict, and the random number generators' states are stored
as tensors and lists only, so that the checkpoint loads with ``torch.load(..., weights_only=True)``.
"""
from __future__ import annotations

import copy
import random

import numpy as np
import torch
from torch import nn

# The open part: a small CNN (two conv blocks with batch norm, then a dropout MLP head). On
# Fashion-MNIST it reaches about 0.91-0.92 test accuracy in 10 epochs of Adam; on the fallback
# digits, above 0.95 in a few seconds of CPU.
HYPERPARAMS = {"lr": 2e-3, "batch_size": 128, "epochs": 10, "optimizer": "adam", "weight_decay": 1e-4}


def build_model() -> nn.Module:
    """(N, 1, 28, 28) -> (N, 10) logits: conv-BN-ReLU-pool twice, then Linear-ReLU-Dropout-Linear."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # (N, 16, 14, 14)
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def make_optimizer(params, hyperparams: dict) -> torch.optim.Optimizer:
    """The optimizer HYPERPARAMS names, over ``params``."""
    name = hyperparams["optimizer"]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    return cls(params, lr=hyperparams["lr"], weight_decay=hyperparams["weight_decay"])


def set_seed(seed: int) -> None:
    """Seed Python's random, NumPy and torch (every CUDA device included)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds the CUDA generators too
    torch.cuda.manual_seed_all(seed)


def train_one_epoch(model: nn.Module, loader, loss_fn, optimizer, device) -> dict:
    """One pass in training mode: zero_grad, forward, mean batch loss, backward, step; per-example means."""
    model.train()
    total_loss = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.int64)
    count = 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        logits = model(X)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach().double().cpu() * len(y)
        correct += (logits.detach().argmax(dim=1) == y).sum().cpu()
        count += len(y)
    return {"loss": float(total_loss) / count, "accuracy": float(correct) / count}


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_fn, device) -> dict:
    """One pass in eval mode without autograd: per-example mean loss and fraction correct."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        logits = model(X)
        total_loss += float(loss_fn(logits, y)) * len(y)
        correct += int((logits.argmax(dim=1) == y).sum())
        count += len(y)
    return {"loss": total_loss / count, "accuracy": correct / count}


def fit(model: nn.Module, train_loader, val_loader, loss_fn, optimizer, epochs: int, device, scheduler=None,
        patience: int | None = None) -> list[dict]:
    """Train up to ``epochs`` epochs; early stopping on val_accuracy; the best (earliest) epoch's weights restored."""
    history: list[dict] = []
    best_acc, best_state, waited = -1.0, None, 0
    for epoch in range(1, epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        train = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        if scheduler is not None:
            scheduler.step()
        val = evaluate(model, val_loader, loss_fn, device)
        history.append({"epoch": epoch, "train_loss": train["loss"], "train_accuracy": train["accuracy"],
                        "val_loss": val["loss"], "val_accuracy": val["accuracy"], "lr": lr})
        if val["accuracy"] > best_acc:
            best_acc, best_state, waited = val["accuracy"], copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def rng_states() -> dict:
    """Every generator's state as tensors, ints and lists (nothing weights_only=True refuses)."""
    version, state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": [version, list(state), gauss],
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_states(states: dict) -> None:
    version, state, gauss = states["python"]
    random.setstate((version, tuple(state), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path, model: nn.Module, optimizer, epoch: int, scheduler=None) -> None:
    """Model, optimizer, scheduler and generator states, and the epoch, in one weights_only-safe file."""
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": rng_states()}, path)


def load_checkpoint(path, model: nn.Module, optimizer=None, scheduler=None) -> int:
    """Restore what save_checkpoint stored (onto the model's device); returns the epoch it was saved at."""
    device = next(model.parameters()).device
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None and checkpoint["scheduler"] is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
    states = checkpoint["rng"]
    states["torch"] = states["torch"].cpu()  # the CPU generator's state must stay on the CPU
    states["cuda"] = [s.cpu() for s in states["cuda"]]
    set_rng_states(states)
    return int(checkpoint["epoch"])
