"""Rebuild hw7's example submissions from the released notebook:

    python tests/submissions/hw7_training/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report). The open part trains each model, so
these examples take the time of their training runs (the overrunning one, the whole CPU budget).
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from helpers import fill, solution_cells, write  # noqa: E402

ID = "hw7_training"
SOLVED = solution_cells(ID)
WRITTEN = {"discussion": "I tried softmax regression, an MLP and a small CNN; the CNN's validation accuracy was "
                         "highest."}

# Correct, written differently: tensors accumulated on the device, inference_mode, the best epoch tracked by
# index, a checkpoint of another layout (NumPy's legacy state as a list), and a CNN written as a class.
ALTERNATIVE = {
    "set_seed": '''
def set_seed(seed):
    torch.manual_seed(seed)  # also seeds every CUDA device
    np.random.seed(seed % 2**32)
    random.seed(seed)
''',
    "train_one_epoch": '''
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train(True)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    hits = torch.zeros((), dtype=torch.int64, device=device)
    seen = 0
    for features, labels in loader:
        features, labels = features.to(device), labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        scores = model(features)
        batch_loss = loss_fn(scores, labels)
        batch_loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss_sum += batch_loss.double() * labels.numel()
            hits += (scores.argmax(1) == labels).sum()
        seen += labels.numel()
    return {"loss": (loss_sum / seen).item(), "accuracy": hits.item() / seen}
''',
    "evaluate": '''
@torch.inference_mode()
def evaluate(model, loader, loss_fn, device):
    model.train(False)
    sums = [0.0, 0, 0]
    for features, labels in loader:
        features, labels = features.to(device), labels.to(device)
        scores = model(features)
        sums[0] += float(loss_fn(scores, labels)) * labels.numel()
        sums[1] += int((scores.argmax(1) == labels).sum())
        sums[2] += labels.numel()
    return {"loss": sums[0] / sums[2], "accuracy": sums[1] / sums[2]}
''',
    "fit": '''
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, scheduler=None, patience=None):
    history, snapshots = [], {}
    best_epoch = None
    for epoch in range(1, epochs + 1):
        rates = [group["lr"] for group in optimizer.param_groups]
        tr = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        if scheduler:
            scheduler.step()
        va = evaluate(model, val_loader, loss_fn, device)
        history.append(dict(epoch=epoch, train_loss=tr["loss"], train_accuracy=tr["accuracy"],
                            val_loss=va["loss"], val_accuracy=va["accuracy"], lr=rates[0]))
        if best_epoch is None or va["accuracy"] > history[best_epoch - 1]["val_accuracy"]:
            best_epoch = epoch
            snapshots = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if patience is not None and epoch - best_epoch >= patience:
            break
    model.load_state_dict(snapshots)
    return history
''',
    "save_checkpoint": '''
def save_checkpoint(path, model, optimizer, epoch, scheduler=None):
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    rng = {"random": list(random.getstate()), "numpy": [kind, keys.tolist(), pos, has_gauss, cached],
           "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save({"states": [model.state_dict(), optimizer.state_dict(),
                           scheduler.state_dict() if scheduler else {}], "epoch": int(epoch), "rng": rng}, path)
''',
    "load_checkpoint": '''
def load_checkpoint(path, model, optimizer=None, scheduler=None):
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model_state, optimizer_state, scheduler_state = saved["states"]
    model.load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None and scheduler_state:
        scheduler.load_state_dict(scheduler_state)
    rng = saved["rng"]
    version, internal, gauss = rng["random"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = rng["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.random.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return saved["epoch"]
''',
    "build_model": '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(32 * 7 * 7, 10))

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


def build_model():
    return SmallCNN()


HYPERPARAMS = dict(lr=3e-3, batch_size=64, epochs=8, optimizer="adamw", weight_decay=1e-2)
''',
    **WRITTEN,
}

# Correct too, in d2l's own style: an Accumulator, LeNet (d2l 6.6) with ReLU and batch normalisation trained
# with plain SGD, a patience counter reset on improvement, and a checkpoint that maps to the model's device.
LENET_STYLE = {
    "train_one_epoch": '''
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    metric = Accumulator(3)
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        y_hat = model(X)
        l = loss_fn(y_hat, y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        with torch.no_grad():
            metric.add(l * X.shape[0], (y_hat.argmax(axis=1) == y).sum(), X.shape[0])
    return {"loss": metric[0] / metric[2], "accuracy": metric[1] / metric[2]}
''',
    "fit": '''
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, scheduler=None, patience=None):
    history = []
    best_acc = float("-inf")
    best = copy.deepcopy(model.state_dict())
    bad_epochs = 0
    for epoch in range(epochs):
        lr = optimizer.param_groups[0]["lr"]
        t = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        if scheduler is not None:
            scheduler.step()
        v = evaluate(model, val_loader, loss_fn, device)
        history.append({"epoch": epoch + 1, "train_loss": t["loss"], "train_accuracy": t["accuracy"],
                        "val_loss": v["loss"], "val_accuracy": v["accuracy"], "lr": lr})
        if v["accuracy"] > best_acc:
            best_acc, bad_epochs = v["accuracy"], 0
            best = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
        if patience is not None and bad_epochs == patience:
            break
    model.load_state_dict(best)
    return history
''',
    "build_model": '''
def build_model():
    # d2l 6.6's LeNet, with ReLU and batch normalisation
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


HYPERPARAMS = {"lr": 0.1, "batch_size": 32, "epochs": 6, "optimizer": "sgd", "weight_decay": 0.0}
''',
}

WRONG_KNOWN = {
    "set_seed": '''
def set_seed(seed):
    torch.manual_seed(seed)
''',
    "evaluate": '''
def evaluate(model, loader, loss_fn, device):
    model.eval()
    total, correct, n = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        y_hat = model(X)
        total += loss_fn(y_hat, y).item() * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += len(y)
    return {"loss": total / n, "accuracy": correct / n}
''',
    "fit": SOLVED["fit"].replace('val["accuracy"] > best_accuracy', 'val["accuracy"] >= best_accuracy'),
    "load_checkpoint": SOLVED["load_checkpoint"].replace('''    torch.set_rng_state(checkpoint["torch_rng"])
''', ""),
}

# The open part, graded by training.
STRONG = {"build_model": '''
def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 7 * 7, 10))


HYPERPARAMS = {"lr": 3e-3, "batch_size": 64, "epochs": 12, "optimizer": "adamw", "weight_decay": 0.05}
'''}
WEAK = {"build_model": '''
def build_model():
    # softmax regression (d2l 3.7): one linear layer
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


HYPERPARAMS = {"lr": 0.05, "batch_size": 64, "epochs": 3, "optimizer": "sgd", "weight_decay": 0.0}
'''}
OVERRUN = {"build_model": SOLVED["build_model"].replace('"epochs": 10', '"epochs": 500')}
MALFORMED = {"build_model": SOLVED["build_model"].replace(
    '{"lr": 0.002, "batch_size": 128, "epochs": 10, "optimizer": "adam", "weight_decay": 1e-4}',
    '{"lr": -0.01, "batch_size": 0, "epochs": 1e6, "optimizer": "adam", "weight_decay": 1e-4}')}

# fit goes looking for the test labels wherever a worker might find them, and trains on them if it can:
# the course's loader without its fallback, the data-root variable, the default and the configured roots.
CHEAT_READ_TEST_LABELS = {"fit": '''
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, scheduler=None, patience=None):
    import os
    from pathlib import Path
    import d2lcourse
    from d2lcourse.data import DataNotFound, fashion_mnist
    roots = [None, os.environ.get("D2L_DATA_ROOT"), Path.home() / "d2l-data"]
    roots += [p / "data" for p in Path(d2lcourse.__file__).resolve().parents]
    for root in roots:
        try:
            test = fashion_mnist(train=False, root=root)
        except (DataNotFound, ImportError, OSError, ValueError, TypeError):
            continue
        X, y = test.data.unsqueeze(1).float() / 255, test.targets
        stolen = DataLoader(TensorDataset(X, y), batch_size=256, shuffle=True)
        for _ in range(epochs):
            train_one_epoch(model, stolen, loss_fn, optimizer, device)
        return []
    return []  # nothing found: no honest training either
'''}


# The four ways around the open part that it used to let through, each beside its honest twin in expected.json
# ("twin": the same model without the trick), which it must not outscore.
# 1. The test labels rebuilt inside the worker: the fallback data set comes from scikit-learn's digits, which ship
#    with the installed packages; every one of the 1,797 images is hashed with its label, and the model answers
#    any image it finds in that table. (The worker's filesystem no longer holds those files, and the scored images
#    are transformed: no hash matches.) Twin: open_weak_model.
LOOKUP = '''
import hashlib


class Lookup(nn.Module):
    """The model, except on images it has in its table: there, the label from the table."""

    def __init__(self, base, table):
        super().__init__()
        self.base, self.table = base, table

    def forward(self, x):
        out = self.base(x)
        if self.training or not self.table:
            return out
        found = [self.table.get(hashlib.sha1(image.detach().cpu().numpy().tobytes()).hexdigest()[:16])
                 for image in x]
        hit = torch.tensor([label is not None for label in found], device=out.device)
        forced = torch.full_like(out, -100.0)
        for i, label in enumerate(found):
            if label is not None:
                forced[i, label] = 100.0
        return torch.where(hit[:, None], forced, out)
'''
WEAK_BASE = "nn.Sequential(nn.Flatten(), nn.Linear(784, 10))"
WEAK_HP = 'HYPERPARAMS = {"lr": 0.05, "batch_size": 64, "epochs": 3, "optimizer": "sgd", "weight_decay": 0.0}'
CHEAT_REBUILT_LABELS = {"build_model": LOOKUP + f'''

def labels_from_the_packages():
    try:
        from d2lcourse.data import fallback_datasets
        _, everything = fallback_datasets(train_fraction=0.0)  # all 1,797 images on the test side
    except Exception:
        return {{}}
    images, labels = everything.tensors
    return {{hashlib.sha1(image.numpy().tobytes()).hexdigest()[:16]: int(label)
            for image, label in zip(images, labels)}}


def build_model():
    return Lookup({WEAK_BASE}, labels_from_the_packages())


{WEAK_HP}
'''}


def carried_table() -> str:
    """2. The table carried in the notebook itself (as a class could carry Fashion-MNIST's public t10k): the hash
    of every fallback image and its label, 37 KB of code. Twin: open_weak_model."""
    import hashlib

    from d2lcourse.data import fallback_datasets
    _, everything = fallback_datasets(train_fraction=0.0)
    images, labels = everything.tensors
    table = {hashlib.sha1(image.numpy().tobytes()).hexdigest()[:16]: int(label) for image, label in zip(images, labels)}
    return LOOKUP + f'''
TABLE = {table!r}


def build_model():
    return Lookup({WEAK_BASE}, TABLE)


{WEAK_HP}
'''


# 3. The budget is a signal: fit ignores SIGALRM and trains on (500 epochs). The budget is now a deadline kept by
#    the grader, which ends the process. Twin: open_overruns_budget.
CHEAT_IGNORE_SIGNAL = {**OVERRUN, "fit": SOLVED["fit"].replace(
    '    history = []', '    import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    history = []', 1)}
assert CHEAT_IGNORE_SIGNAL["fit"] != SOLVED["fit"]

# 4. Training off the clock: fit trains one epoch and returns (a short training_time); the model keeps the loader
#    and trains 8 s more inside the grader's first test-set forward pass after it. Now that pass runs in a new
#    worker, on a fresh build_model() holding the weights fit handed over. Twin: correct_solution.
CHEAT_OFF_THE_CLOCK = {
    "build_model": '''
class LateLearner(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        self.later = None  # (loader, loss_fn, optimizer), left here by fit

    def forward(self, x):
        if not self.training and self.later is not None:
            loader, loss_fn, optimizer = self.later
            self.later = None
            self.train()
            torch.set_grad_enabled(True)  # the grader calls it under no_grad
            started = time.time()
            while time.time() - started < 8:
                for X, y in loader:
                    optimizer.zero_grad()
                    loss_fn(self.net(X), y).backward()
                    optimizer.step()
            self.eval()
        return self.net(x)


def build_model():
    return LateLearner()


HYPERPARAMS = {"lr": 0.002, "batch_size": 128, "epochs": 1, "optimizer": "adam", "weight_decay": 1e-4}
''',
    "fit": SOLVED["fit"].replace(
        '    return history', '    model.later = (train_loader, loss_fn, optimizer)\n    return history', 1),
}
assert "model.later" in CHEAT_OFF_THE_CLOCK["fit"]


def main() -> None:
    write(fill(ID, {**SOLVED, **WRITTEN}), HERE / "correct_solution.ipynb")
    write(fill(ID, {**SOLVED, **ALTERNATIVE}), HERE / "correct_alternative.ipynb")
    write(fill(ID, {**SOLVED, **WRITTEN, **LENET_STYLE}), HERE / "correct_alternative_lenet.ipynb")
    write(fill(ID, {k: SOLVED[k] for k in ("set_seed", "train_one_epoch", "evaluate")}), HERE / "half_done.ipynb")
    write(fill(ID, {**SOLVED, **WRONG_KNOWN}), HERE / "wrong_known_mistakes.ipynb")
    write(fill(ID, {**SOLVED, **STRONG}), HERE / "open_strong_model.ipynb")
    write(fill(ID, {**SOLVED, **WEAK}), HERE / "open_weak_model.ipynb")
    write(fill(ID, {**SOLVED, **OVERRUN}), HERE / "open_overruns_budget.ipynb")
    write(fill(ID, {**SOLVED, **MALFORMED}), HERE / "wrong_malformed_hyperparams.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_READ_TEST_LABELS}), HERE / "cheat_read_test_labels.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_REBUILT_LABELS}), HERE / "cheat_rebuilt_test_labels.ipynb")
    write(fill(ID, {**SOLVED, "build_model": carried_table()}), HERE / "cheat_carried_hash_table.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_IGNORE_SIGNAL}), HERE / "cheat_ignores_budget_signal.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_OFF_THE_CLOCK}), HERE / "cheat_trains_off_the_clock.ipynb")


if __name__ == "__main__":
    main()
