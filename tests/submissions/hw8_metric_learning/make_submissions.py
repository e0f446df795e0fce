"""Rebuild hw8's example submissions from the released notebook:
python tests/submissions/hw8_metric_learning/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report). The open part trains each model that defines it
(a few seconds each on the fallback data); the examples about other parts leave it as released, so that they train
nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import fill, solution_cells, write_examples, wrong_answers  # noqa: E402

ID = "hw8_metric_learning"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference.
ALTERNATIVE = {
    "entropy": '''
def entropy(p):
    return -torch.where(p > 0, p * torch.log(p.clamp(min=torch.finfo(p.dtype).tiny)), torch.zeros_like(p)).sum(-1)
''',
    "kl_divergence": '''
def kl_divergence(p, q):
    # D_KL = H(p, q) - H(p), the notes' expansion
    return cross_entropy(p, q) - entropy(p)
''',
    "cross_entropy": '''
def cross_entropy(p, q):
    logq = torch.log(q.clamp(min=torch.finfo(q.dtype).tiny))
    return -torch.where(p > 0, p * logq, torch.zeros_like(p)).sum(dim=-1)
''',
    "binary_cross_entropy_with_logits": '''
def binary_cross_entropy_with_logits(logits, y):
    # -log sigmoid(z) = softplus(-z), -log(1 - sigmoid(z)) = softplus(z)
    return (y * F.softplus(-logits) + (1 - y) * F.softplus(logits)).mean()
''',
    "CSVDataset": '''
class CSVDataset(Dataset):
    # the file read line by line with Python's own tools, each row parsed when it is asked for
    def __init__(self, path):
        with open(path) as fh:
            self.rows = [line.strip() for line in fh if line.strip()]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        values = torch.tensor([float(v) for v in self.rows[index].split(",")], dtype=torch.float32)
        return values[:-1], values[-1:]
''',
    "epoch_loop": '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    import math
    loader = DataLoader(dataset, batch_size, shuffle)
    per_epoch = math.ceil(len(dataset) / batch_size)
    labels = []
    for epoch in range(1, epochs + 1):
        labels.append([batch[1] for batch in loader])
    return dict(epochs=len(labels), iterations_per_epoch=per_epoch, iterations=per_epoch * len(labels),
                labels=labels)
''',
    "knn_predict": '''
def knn_predict(train_X, train_y, X, k):
    diff = X[:, None, :] - train_X[None, :, :]
    order = (diff ** 2).sum(-1).argsort(dim=1)[:, :k]
    labels = train_y[order]                                    # (m, k), nearest first
    counts = (labels[:, :, None] == labels[:, None, :]).sum(2)  # votes of each neighbour's class
    best = counts.max(dim=1, keepdim=True).values
    first = (counts == best).int().argmax(dim=1)               # the nearest neighbour among the tied classes
    return labels.gather(1, first[:, None]).squeeze(1)
''',
    "contrastive_loss": '''
def contrastive_loss(x1, x2, same, margin=1.0):
    d = torch.linalg.vector_norm(x1 - x2, dim=1)
    return torch.mean(same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2))
''',
    "triplet_loss": '''
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_ap = F.pairwise_distance(anchor, positive)
    d_an = F.pairwise_distance(anchor, negative)
    return F.relu(d_ap - d_an + margin).mean()
''',
    "batch_hard_triplet_loss": '''
def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    n = len(embeddings)
    losses = []
    dist = ((embeddings[:, None] - embeddings[None]) ** 2).sum(-1).clamp(min=1e-12).sqrt()
    for i in range(n):   # a loop over anchors is allowed here: only the result is graded
        pos = [j for j in range(n) if j != i and labels[j] == labels[i]]
        neg = [j for j in range(n) if labels[j] != labels[i]]
        if pos and neg:
            losses.append(F.relu(dist[i, pos].max() - dist[i, neg].min() + margin))
    return torch.stack(losses).mean() if losses else embeddings.sum() * 0
''',
    "build_embedder": '''
class SmallNet(nn.Module):
    # an average-pooled CNN, its embedding not normalised; triplets mined by hand for the student's triplet_loss
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 12, 5, padding=2), nn.BatchNorm2d(12), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(12, 24, 3, padding=1), nn.BatchNorm2d(24), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten())
        self.out = nn.Sequential(nn.Linear(24 * 7 * 7, 96), nn.ReLU(), nn.Linear(96, 24))

    def forward(self, x):
        return self.out(self.body(x))


def build_embedder():
    return SmallNet()


def mined_triplets(emb, labels):
    # every anchor with a positive and a negative: a random positive, the nearest (hardest) negative
    with torch.no_grad():
        dist = torch.cdist(emb, emb)
        same = labels[:, None] == labels[None, :]
        pos = same & ~torch.eye(len(labels), dtype=torch.bool, device=emb.device)
        keep = pos.any(1) & (~same).any(1)
        positive = torch.multinomial(pos[keep].float(), 1).squeeze(1)
        negative = dist[keep].masked_fill(same[keep], float("inf")).argmin(1)
    return keep.nonzero().squeeze(1), positive, negative


def train_embedder(model, train_loader, hyperparams, device):
    opt = torch.optim.SGD(model.parameters(), lr=hyperparams["lr"], momentum=0.9, nesterov=True)
    rows = []
    for epoch in range(1, hyperparams["epochs"] + 1):
        model.train()
        total, count = 0.0, 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            emb = model(images)
            a, p, n = mined_triplets(emb, labels)
            if len(a) == 0:
                continue
            loss = triplet_loss(emb[a], emb[p], emb[n], margin=hyperparams["margin"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(a)
            count += len(a)
        rows.append(dict(epoch=epoch, loss=total / max(count, 1)))
    return rows


HYPERPARAMS = dict(lr=0.02, batch_size=96, epochs=8, margin=1.0)
''',
}

HALF = ["entropy", "kl_divergence", "cross_entropy", "binary_cross_entropy_with_logits"]

WRONG_KNOWN = wrong_answers(ID, [
    "log(sigmoid(z)) directly",
    "ties to the smallest label",
    "squared distances",
    "drop_last=True",
])

# Borrow the reference: by import, or from any solutions/ folder near the working directory.
CHEAT_IMPORT_REFERENCE = {"knn_predict": '''
def knn_predict(train_X, train_y, X, k):
    import glob, importlib
    for name in ("solutions.hw8_metric_learning", "hw8_metric_learning"):
        try:
            return importlib.import_module(name).knn_predict(train_X, train_y, X, k)
        except Exception:
            pass
    for path in glob.glob("**/solutions/hw8_metric_learning.py", recursive=True):
        namespace = {}
        exec(open(path).read(), namespace)
        return namespace["knn_predict"](train_X, train_y, X, k)
    raise RuntimeError("no reference found to copy")
'''}

# ----- the open part, graded by training ----------------------------------------------------------------------
CLOSED = {task: body for task, body in SOLVED.items() if task != "build_embedder"}  # the open part left as released

# A weak embedder: one linear layer to 8 numbers, two epochs of plain SGD: partial credit.
WEAK_MODEL = "nn.Sequential(nn.Flatten(), nn.Linear(784, 8))"
WEAK_HP = 'HYPERPARAMS = {"lr": 0.05, "batch_size": 64, "epochs": 2, "margin": 1.0}'
WEAK_TRAIN = '''
def train_embedder(model, train_loader, hyperparams, device):
    opt = torch.optim.SGD(model.parameters(), lr=hyperparams["lr"])
    history = []
    for epoch in range(hyperparams["epochs"]):
        losses = []
        for X, y in train_loader:
            loss = batch_hard_triplet_loss(model(X.to(device)), y.to(device), hyperparams["margin"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        history.append({"epoch": epoch + 1, "loss": sum(losses) / len(losses)})
    return history
'''
WEAK = {"build_embedder": f"""
def build_embedder():
    return {WEAK_MODEL}

{WEAK_TRAIN}

{WEAK_HP}
"""}

# The ways around the open part, each beside its honest twin in expected.json ("twin": the same submission without
# the trick), which it must not outscore.
# 1. A table carried in the notebook: the hash of every fallback digit (all 1,797, the test ones among them) and its
#    label; the embedder puts every image it finds there on its class's corner (100 * one-hot), the others through
#    the weak model. The scored test images are transformed (no hash matches) and the gallery's images are on the
#    corners: the table buys nothing; the clean published ones all match, which the memorisation check flags.
#    Twin: open_weak_model.
def carried_table() -> str:
    import hashlib

    from d2lcourse.data import fallback_datasets
    _, everything = fallback_datasets(train_fraction=0.0)
    images, labels = everything.tensors
    table = {hashlib.sha1(image.numpy().tobytes()).hexdigest()[:16]: int(label) for image, label in zip(images, labels)}
    return f'''
import hashlib

TABLE = {table!r}


class Lookup(nn.Module):
    def __init__(self, base):
        super().__init__()
        self.base = base

    def forward(self, x):
        out = self.base(x)
        if self.training:
            return out
        found = [TABLE.get(hashlib.sha1(image.detach().cpu().numpy().tobytes()).hexdigest()[:16]) for image in x]
        rows = [i for i, label in enumerate(found) if label is not None]
        if rows:
            corners = torch.zeros(len(rows), out.shape[1], device=out.device)
            corners[torch.arange(len(rows)), torch.tensor([found[i] for i in rows]) % out.shape[1]] = 100.0
            out = out.clone()
            out[rows] = corners
        return out


def build_embedder():
    return Lookup({WEAK_MODEL})

{WEAK_TRAIN}

{WEAK_HP}
'''


# 2. The test labels looked for from train_embedder: the course's loader without its fallback, the data-root
#    variable, the default roots, and scikit-learn's own digits (the fallback's source); whatever is found is trained
#    on. The worker has neither (its filesystem hides the data), so it trains on nothing. Twin: correct_solution.
SIGNATURE = "def train_embedder(model, train_loader, hyperparams, device):"
CHEAT_READ_TEST_LABELS = {"build_embedder": SOLVED["build_embedder"].replace(SIGNATURE, SIGNATURE + '''
    import os
    from pathlib import Path
    import d2lcourse
    from d2lcourse.data import DataNotFound, fashion_mnist
    found = None
    for root in [None, os.environ.get("D2L_DATA_ROOT"), Path.home() / "d2l-data",
                 *[p / "data" for p in Path(d2lcourse.__file__).resolve().parents]]:
        try:
            test = fashion_mnist(train=False, root=root)
            found = test.data.unsqueeze(1).float() / 255, test.targets
            break
        except (DataNotFound, ImportError, OSError, ValueError, TypeError):
            continue
    if found is None:
        try:
            from sklearn.datasets import load_digits
            digits = load_digits()
            images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
            found = F.interpolate(images, size=(28, 28), mode="bilinear").clamp(0, 1), torch.tensor(digits.target)
        except Exception:
            return []  # nothing found: no honest training either
    train_loader = DataLoader(torch.utils.data.TensorDataset(*found), batch_size=hyperparams["batch_size"],
                              shuffle=True)''', 1)}
assert CHEAT_READ_TEST_LABELS["build_embedder"] != SOLVED["build_embedder"]

# 3. Training off the clock: train_embedder takes a few steps and returns at once (a short training_time), leaving
#    the loader on the model, which trains 8 s more inside the grader's first forward pass in eval mode. That pass
#    now runs in a new worker, on a fresh build_embedder() holding the weights handed over. Twin: correct_solution.
CHEAT_OFF_THE_CLOCK = {"build_embedder": '''
import time


class LateLearner(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64))
        self.later = None  # (loader, optimizer, margin), left here by train_embedder

    def forward(self, x):
        if not self.training and self.later is not None:
            loader, optimizer, margin = self.later
            self.later = None
            self.train()
            torch.set_grad_enabled(True)  # the grader calls it under no_grad
            started = time.time()
            while time.time() - started < 8:
                for X, y in loader:
                    optimizer.zero_grad()
                    batch_hard_triplet_loss(F.normalize(self.net(X), dim=1), y, margin).backward()
                    optimizer.step()
            self.eval()
        return F.normalize(self.net(x), dim=1)


def build_embedder():
    return LateLearner()


def train_embedder(model, train_loader, hyperparams, device):
    optimizer = torch.optim.Adam(model.parameters(), lr=hyperparams["lr"])
    for step, (X, y) in zip(range(2), train_loader):
        optimizer.zero_grad()
        batch_hard_triplet_loss(F.normalize(model.net(X), dim=1), y, hyperparams["margin"]).backward()
        optimizer.step()
    model.later = (train_loader, optimizer, hyperparams["margin"])
    return [{"epoch": 1, "loss": 0.0}]


HYPERPARAMS = {"lr": 0.003, "batch_size": 128, "epochs": 8, "margin": 0.2}
'''}


def examples() -> dict[str, dict]:
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "half_done": fill(ID, {task: SOLVED[task] for task in HALF}),
        "wrong_known_mistakes": fill(ID, {**CLOSED, **WRONG_KNOWN}),
        "cheat_import_reference": fill(ID, {**CLOSED, **CHEAT_IMPORT_REFERENCE}),
        "open_weak_model": fill(ID, {**SOLVED, **WEAK}),
        "cheat_carried_hash_table": fill(ID, {**SOLVED, "build_embedder": carried_table()}),
        "cheat_read_test_labels": fill(ID, {**SOLVED, **CHEAT_READ_TEST_LABELS}),
        "cheat_trains_off_the_clock": fill(ID, {**SOLVED, **CHEAT_OFF_THE_CLOCK}),
    }


if __name__ == "__main__":
    write_examples(ID, examples())
