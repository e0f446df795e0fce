"""Rebuild hw8's example submissions from the released notebook:
python tests/submissions/hw8_metric_learning/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
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

def examples() -> dict[str, dict]:
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "half_done": fill(ID, {task: SOLVED[task] for task in HALF}),
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        "cheat_import_reference": fill(ID, {**SOLVED, **CHEAT_IMPORT_REFERENCE}),
    }


if __name__ == "__main__":
    write_examples(ID, examples())
