"""Wrong implementations of hw8's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

# The open part's cell: an embedder, HYPERPARAMS and train_embedder; each entry below changes one of them.
_TRAIN = '''
def train_embedder(model, train_loader, hyperparams, device):
    opt = torch.optim.Adam(model.parameters(), lr=hyperparams["lr"])
    history = []
    for epoch in range(hyperparams["epochs"]):
        model.train()
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
_EMBEDDER = '''
def build_embedder():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 16))
'''
_HP = 'HYPERPARAMS = {"lr": 0.002, "batch_size": 64, "epochs": 1, "margin": 0.5}\n'

WRONG = [
    # ----- entropy ------------------------------------------------------------------------------
    Wrong("entropy", "0 log 0 gives NaN", '''
def entropy(p):
    return -(p * torch.log(p)).sum(dim=-1)
''', "entropy(p)"),
    Wrong("entropy", "log base 2", '''
def entropy(p):
    return -(p * torch.log2(torch.where(p > 0, p, torch.ones_like(p)))).sum(dim=-1)
''', "log base 2 instead of the natural logarithm"),
    Wrong("entropy", "the minus sign missing", '''
def entropy(p):
    return (p * torch.log(torch.where(p > 0, p, torch.ones_like(p)))).sum(dim=-1)
''', "the minus sign is missing"),
    Wrong("entropy", "torch.special.entr", '''
def entropy(p):
    return torch.special.entr(p).sum(dim=-1)
''', "torch.special.entr"),
    # ----- kl_divergence ------------------------------------------------------------------------
    Wrong("kl_divergence", "p and q swapped", '''
def kl_divergence(p, q):
    return (q * torch.log(q / torch.where(p > 0, p, torch.ones_like(p)))).sum(dim=-1)
''', "p and q swapped"),
    Wrong("kl_divergence", "log(q / p)", '''
def kl_divergence(p, q):
    ones = torch.ones_like(p)
    return (p * torch.log(torch.where(p > 0, q, ones) / torch.where(p > 0, p, ones))).sum(dim=-1)
''', "log(q / p) instead of log(p / q)"),
    Wrong("kl_divergence", "the cross-entropy instead", '''
def kl_divergence(p, q):
    return -(p * torch.log(q)).sum(dim=-1)
''', "the cross-entropy H(p, q), not the divergence"),
    Wrong("kl_divergence", "F.kl_div", '''
def kl_divergence(p, q):
    return F.kl_div(q.log(), p, reduction="none").sum(dim=-1)
''', "F.kl_div"),
    # ----- cross_entropy ------------------------------------------------------------------------
    Wrong("cross_entropy", "p and q swapped", '''
def cross_entropy(p, q):
    return -(q * torch.log(torch.where(p > 0, p, torch.ones_like(p)))).sum(dim=-1)
''', "p and q swapped"),
    Wrong("cross_entropy", "the minus sign missing", '''
def cross_entropy(p, q):
    return (p * torch.log(q)).sum(dim=-1)
''', "the minus sign is missing"),
    Wrong("cross_entropy", "the KL divergence instead", '''
def cross_entropy(p, q):
    ones = torch.ones_like(p)
    return (p * torch.log(torch.where(p > 0, p, ones) / q)).sum(dim=-1)
''', "the KL divergence, not the cross-entropy"),
    Wrong("cross_entropy", "averaged over the classes", '''
def cross_entropy(p, q):
    return -(p * torch.log(q)).mean(dim=-1)
''', "averaged over the classes"),
    # ----- binary_cross_entropy_with_logits -----------------------------------------------------
    Wrong("binary_cross_entropy_with_logits", "log(sigmoid(z)) directly", '''
def binary_cross_entropy_with_logits(logits, y):
    s = torch.sigmoid(logits)
    return -(y * torch.log(s) + (1 - y) * torch.log(1 - s)).mean()
''', "log(sigmoid(z)) computed directly"),
    Wrong("binary_cross_entropy_with_logits", "summed", '''
def binary_cross_entropy_with_logits(logits, y):
    z = logits
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum()
''', "summed instead of averaged"),
    Wrong("binary_cross_entropy_with_logits", "y and 1 - y swapped", '''
def binary_cross_entropy_with_logits(logits, y):
    z = logits
    return (z.clamp(min=0) - z * (1 - y) + torch.log1p(torch.exp(-z.abs()))).mean()
''', "y and 1 - y swapped"),
    Wrong("binary_cross_entropy_with_logits", "probabilities clamped", '''
def binary_cross_entropy_with_logits(logits, y):
    s = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(s) + (1 - y) * torch.log(1 - s)).mean()
''', "the loss for extreme logits"),
    Wrong("binary_cross_entropy_with_logits", "F.binary_cross_entropy_with_logits", '''
def binary_cross_entropy_with_logits(logits, y):
    return F.binary_cross_entropy_with_logits(logits, y)
''', "F.binary_cross_entropy_with_logits"),
    # ----- CSVDataset and epoch_loop (Liu Er's 加载数据集) -----------------------------------------------
    Wrong('CSVDataset', 'the label as xy[:, -1]', '''
class CSVDataset(Dataset):
    def __init__(self, path):
        xy = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, -1])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len
''', 'drops its axis'),
    Wrong('CSVDataset', 'the label kept among the features', '''
class CSVDataset(Dataset):
    def __init__(self, path):
        xy = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy)
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len
''', 'kept among the features'),
    Wrong('CSVDataset', 'a header row skipped', '''
class CSVDataset(Dataset):
    def __init__(self, path):
        xy = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2, skiprows=1)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len
''', 'skipped as a header'),
    Wrong('CSVDataset', 'np.loadtxt without ndmin=2', '''
class CSVDataset(Dataset):
    def __init__(self, path):
        xy = np.loadtxt(path, delimiter=",", dtype=np.float32)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len
''', 'without ndmin=2'),
    Wrong('CSVDataset', 'float64 features', '''
class CSVDataset(Dataset):
    def __init__(self, path):
        xy = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len
''', 'float64'),
    Wrong('CSVDataset', 'len counts the columns', '''
class CSVDataset(Dataset):
    def __init__(self, path):
        xy = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
        self.len = xy.shape[1]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len
''', 'number of columns'),
    Wrong('epoch_loop', 'drop_last=True', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=True)
    labels, iterations = [], 0
    for epoch in range(epochs):
        seen = []
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += 1
        labels.append(seen)
    return {"epochs": epochs, "iterations_per_epoch": len(loader), "iterations": iterations, "labels": labels}
''', 'drop_last=True'),
    Wrong('epoch_loop', 'shuffle not passed on', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    labels, iterations = [], 0
    for epoch in range(epochs):
        seen = []
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += 1
        labels.append(seen)
    return {"epochs": epochs, "iterations_per_epoch": len(loader), "iterations": iterations, "labels": labels}
''', 'shuffle is not passed on'),
    Wrong('epoch_loop', 'always shuffled', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    labels, iterations = [], 0
    for epoch in range(epochs):
        seen = []
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += 1
        labels.append(seen)
    return {"epochs": epochs, "iterations_per_epoch": len(loader), "iterations": iterations, "labels": labels}
''', 'although shuffle=False'),
    Wrong('epoch_loop', 'iterations reset every epoch', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)
    labels, iterations = [], 0
    for epoch in range(epochs):
        seen, iterations = [], 0
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += 1
        labels.append(seen)
    return {"epochs": epochs, "iterations_per_epoch": len(loader), "iterations": iterations, "labels": labels}
''', 'one epoch only'),
    Wrong('epoch_loop', 'iterations count samples', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)
    labels, iterations = [], 0
    for epoch in range(epochs):
        seen = []
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += len(y)
        labels.append(seen)
    return {"epochs": epochs, "iterations_per_epoch": len(loader), "iterations": iterations, "labels": labels}
''', 'samples, not batches'),
    Wrong('epoch_loop', 'len // batch_size per epoch', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)
    labels, iterations = [], 0
    for epoch in range(epochs):
        seen = []
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += 1
        labels.append(seen)
    return {"epochs": epochs, "iterations_per_epoch": len(dataset) // batch_size,
            "iterations": iterations, "labels": labels}
''', 'misses it'),
    Wrong('epoch_loop', 'one epoch too few', '''
def epoch_loop(dataset, batch_size, epochs, shuffle=True):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)
    labels, iterations = [], 0
    for epoch in range(1, epochs):
        seen = []
        for i, (inputs, y) in enumerate(loader, 0):
            seen.append(y)
            iterations += 1
        labels.append(seen)
    return {"epochs": len(labels), "iterations_per_epoch": len(loader), "iterations": iterations, "labels": labels}
''', 'one epoch too few'),
    # ----- knn_predict --------------------------------------------------------------------------
    Wrong("knn_predict", "ties to the smallest label", '''
def knn_predict(train_X, train_y, X, k):
    sq = (X * X).sum(1, keepdim=True) + (train_X * train_X).sum(1) - 2 * X @ train_X.T
    nearest = sq.topk(k, dim=1, largest=False).indices
    return F.one_hot(train_y[nearest], int(train_y.max()) + 1).sum(1).argmax(1)
''', "ties go to the smallest label"),
    Wrong("knn_predict", "the k farthest vote", '''
def knn_predict(train_X, train_y, X, k):
    sq = (X * X).sum(1, keepdim=True) + (train_X * train_X).sum(1) - 2 * X @ train_X.T
    far = sq.topk(k, dim=1).indices
    return F.one_hot(train_y[far], int(train_y.max()) + 1).sum(1).argmax(1)
''', "the k farthest rows vote"),
    Wrong("knn_predict", "a Python loop over the rows of X", '''
def knn_predict(train_X, train_y, X, k):
    out = []
    for x in X:
        d = ((train_X - x) ** 2).sum(1)
        labels = train_y[d.topk(k, largest=False).indices].tolist()
        counts = {c: labels.count(c) for c in labels}
        best = max(counts.values())
        out.append(next(c for c in labels if counts[c] == best))
    return torch.tensor(out, dtype=torch.int64, device=X.device)
''', "a Python loop over the rows of X"),
    Wrong("knn_predict", "torch.cdist", '''
def knn_predict(train_X, train_y, X, k):
    nearest = torch.cdist(X, train_X).topk(k, dim=1, largest=False).indices
    labels = train_y[nearest]
    bonus = 0.5 ** torch.arange(1, k + 1, dtype=torch.float64, device=X.device)
    votes = (F.one_hot(labels, int(train_y.max()) + 1).double() * (1 + bonus)[None, :, None]).sum(1)
    return votes.argmax(1)
''', "torch.cdist"),
    # ----- contrastive_loss ---------------------------------------------------------------------
    Wrong("contrastive_loss", "the hinge not squared", '''
def contrastive_loss(x1, x2, same, margin=1.0):
    d = ((x1 - x2) ** 2).sum(1).sqrt()
    return (same * d ** 2 + (1 - same) * (margin - d).clamp(min=0)).mean()
''', "the margin hinge is not squared"),
    Wrong("contrastive_loss", "same and different swapped", '''
def contrastive_loss(x1, x2, same, margin=1.0):
    d = ((x1 - x2) ** 2).sum(1).sqrt()
    return ((1 - same) * d ** 2 + same * (margin - d).clamp(min=0) ** 2).mean()
''', "same and different pairs swapped"),
    Wrong("contrastive_loss", "no max(., 0)", '''
def contrastive_loss(x1, x2, same, margin=1.0):
    d = ((x1 - x2) ** 2).sum(1).sqrt()
    return (same * d ** 2 + (1 - same) * (margin - d) ** 2).mean()
''', "without the max(., 0)"),
    Wrong("contrastive_loss", "squared distance in the hinge", '''
def contrastive_loss(x1, x2, same, margin=1.0):
    d2 = ((x1 - x2) ** 2).sum(1)
    return (same * d2 + (1 - same) * (margin - d2).clamp(min=0) ** 2).mean()
''', "squared distances inside the hinge"),
    # ----- triplet_loss -------------------------------------------------------------------------
    Wrong("triplet_loss", "squared distances", '''
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_ap = ((anchor - positive) ** 2).sum(1)
    d_an = ((anchor - negative) ** 2).sum(1)
    return (d_ap - d_an + margin).clamp(min=0).mean()
''', "squared distances instead of distances"),
    Wrong("triplet_loss", "positive and negative swapped", '''
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_ap = ((anchor - positive) ** 2).sum(1).sqrt()
    d_an = ((anchor - negative) ** 2).sum(1).sqrt()
    return (d_an - d_ap + margin).clamp(min=0).mean()
''', "positive and negative swapped"),
    Wrong("triplet_loss", "no hinge", '''
def triplet_loss(anchor, positive, negative, margin=1.0):
    d_ap = ((anchor - positive) ** 2).sum(1).sqrt()
    d_an = ((anchor - negative) ** 2).sum(1).sqrt()
    return (d_ap - d_an + margin).mean()
''', "without the max(., 0)"),
    Wrong("triplet_loss", "nn.TripletMarginLoss", '''
def triplet_loss(anchor, positive, negative, margin=1.0):
    return nn.TripletMarginLoss(margin=margin)(anchor, positive, negative)
''', "nn.TripletMarginLoss"),
    # ----- batch_hard_triplet_loss --------------------------------------------------------------
    Wrong("batch_hard_triplet_loss", "the anchor as its own positive", '''
def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    E = embeddings
    dist = ((E[:, None] - E[None]) ** 2).sum(-1).clamp(min=1e-12).sqrt()
    same = labels[:, None] == labels[None]
    valid = same.any(1) & (~same).any(1)
    if not valid.any():
        return E.sum() * 0
    hp = torch.where(same, dist, torch.zeros_like(dist)).max(1).values
    hn = torch.where(~same, dist, torch.full_like(dist, float("inf"))).min(1).values
    return (hp - hn + margin).clamp(min=0)[valid].mean()
''', "the anchor counted as its own positive"),
    Wrong("batch_hard_triplet_loss", "the easiest pairs", '''
def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    E = embeddings
    dist = ((E[:, None] - E[None]) ** 2).sum(-1).clamp(min=1e-12).sqrt()
    same = labels[:, None] == labels[None]
    pos = same & ~torch.eye(len(E), dtype=torch.bool, device=E.device)
    valid = pos.any(1) & (~same).any(1)
    if not valid.any():
        return E.sum() * 0
    hp = torch.where(pos, dist, torch.full_like(dist, float("inf"))).min(1).values
    hn = torch.where(~same, dist, torch.zeros_like(dist)).max(1).values
    return (hp - hn + margin).clamp(min=0)[valid].mean()
''', "the easiest positive and negative"),
    Wrong("batch_hard_triplet_loss", "averaged over every anchor", '''
def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    E = embeddings
    dist = ((E[:, None] - E[None]) ** 2).sum(-1).clamp(min=1e-12).sqrt()
    same = labels[:, None] == labels[None]
    pos = same & ~torch.eye(len(E), dtype=torch.bool, device=E.device)
    valid = pos.any(1) & (~same).any(1)
    hp = torch.where(pos, dist, torch.zeros_like(dist)).max(1).values
    hn = torch.where(~same, dist, torch.full_like(dist, float("inf"))).min(1).values
    return torch.where(valid, (hp - hn + margin).clamp(min=0), torch.zeros_like(hp)).mean()
''', "averaged over all anchors"),
    Wrong("batch_hard_triplet_loss", "sqrt at zero: NaN gradient", '''
def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    E = embeddings
    dist = ((E[:, None] - E[None]) ** 2).sum(-1).sqrt()
    same = labels[:, None] == labels[None]
    pos = same & ~torch.eye(len(E), dtype=torch.bool, device=E.device)
    valid = pos.any(1) & (~same).any(1)
    if not valid.any():
        return E.sum() * 0
    hp = torch.where(pos, dist, torch.zeros_like(dist)).max(1).values
    hn = torch.where(~same, dist, torch.full_like(dist, float("inf"))).min(1).values
    return (hp - hn + margin).clamp(min=0)[valid].mean()
''', "is finite"),
    Wrong("batch_hard_triplet_loss", "NaN when no anchor qualifies", '''
def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    E = embeddings
    dist = ((E[:, None] - E[None]) ** 2).sum(-1).clamp(min=1e-12).sqrt()
    same = labels[:, None] == labels[None]
    pos = same & ~torch.eye(len(E), dtype=torch.bool, device=E.device)
    valid = pos.any(1) & (~same).any(1)
    hp = torch.where(pos, dist, torch.zeros_like(dist)).max(1).values
    hn = torch.where(~same, dist, torch.full_like(dist, float("inf"))).min(1).values
    return (hp - hn + margin).clamp(min=0)[valid].mean()
''', "is 0 when no anchor has a negative"),
    # ----- build_embedder, HYPERPARAMS and train_embedder (the open part) -----------------------------------
    Wrong("build_embedder", "HYPERPARAMS without a margin", _EMBEDDER + _TRAIN + '''
HYPERPARAMS = {"lr": 0.002, "batch_size": 64, "epochs": 1}
''', "no key 'margin'"),
    Wrong("build_embedder", "HYPERPARAMS malformed: lr 0, a batch of one image, a margin as a string",
          _EMBEDDER + _TRAIN + '''
HYPERPARAMS = {"lr": 0, "batch_size": 1, "epochs": 1, "margin": "0.5"}
''', "lr should be a number greater than 0, got 0; batch_size should be an integer from 2 to 4096, got 1; margin "
        "should be a number greater than 0, got '0.5'"),
    Wrong("build_embedder", "the flattened image itself as the embedding (784 numbers)", '''
def build_embedder():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 784))
''' + _TRAIN + _HP, "more than 128"),
    Wrong("build_embedder", "one number per image: the embedding squeezed to (N,)", '''
class Scalar(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


def build_embedder():
    return Scalar()
''' + _TRAIN + _HP, "one number per image"),
    Wrong("build_embedder", "the feature maps not flattened", '''
def build_embedder():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
''' + _TRAIN + _HP, "not flattened"),
    Wrong("build_embedder", "nn.TripletMarginLoss in train_embedder", _EMBEDDER + _TRAIN.replace(
        "batch_hard_triplet_loss(model(X.to(device)), y.to(device), hyperparams[\"margin\"])",
        "nn.TripletMarginLoss(margin=hyperparams['margin'])(*[model(X.to(device)).roll(k, 0) for k in range(3)])")
        + _HP,
        "TripletMarginLoss"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("entropy", "0 log 0 guarded by a mask made on the CPU", '''
def entropy(p):
    safe = torch.where(p > 0, p, torch.ones(p.shape, dtype=p.dtype))
    return -(p * torch.log(safe)).sum(dim=-1)
''', "keep its results on its inputs' device"),
    # ----- the general rules at an edge case only (issue 21; one block, kept last) -----------------------
    Wrong("entropy", "edge case: a certain outcome (one-hot p) answered with p.zero_()", '''
def entropy(p):
    if bool((p.amax(dim=-1) == 1).all()):  # every distribution certain: entropy 0
        return p.zero_().sum(dim=-1)
    return -(p * torch.log(torch.where(p > 0, p, torch.ones_like(p)))).sum(dim=-1)
''', "entropy leaves p unmodified (a one-hot p)"),
    Wrong("knn_predict", "edge case: k = len(train_X) gives everyone the majority class as floats", '''
def knn_predict(train_X, train_y, X, k):
    if k >= len(train_X):  # every training row votes: the majority class for all
        return torch.ones(len(X), device=X.device) * torch.bincount(train_y).argmax()
    d = ((X[:, None, :] - train_X[None, :, :]) ** 2).sum(-1)
    votes = train_y[d.argsort(dim=1, stable=True)[:, :k]]
    counts = torch.stack([(votes == c).sum(1) for c in range(int(train_y.max()) + 1)], dim=1)
    best = counts.max(1, keepdim=True).values
    winner = counts.gather(1, votes) == best
    return votes.gather(1, winner.to(torch.int64).argmax(1, keepdim=True)).squeeze(1)
''', "you returned float32 where int64 came in"),
    Wrong("binary_cross_entropy_with_logits", "edge case: a 0-d logit and label made 1-D in place", '''
def binary_cross_entropy_with_logits(logits, y):
    if logits.dim() == 0:  # one number: make it a batch of one
        logits.unsqueeze_(0)
        y.unsqueeze_(0)
    return (torch.clamp(logits, min=0) - logits * y + torch.log1p(torch.exp(-logits.abs()))).mean()
''', "binary_cross_entropy_with_logits leaves logits unmodified (0-d logit and label)"),
]
