"""Wrong implementations of hw7's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

_EPOCH = '''
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total, correct, n = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
{step}
        total += loss.item() * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += len(y)
    return {"loss": total / n, "accuracy": correct / n}
'''


def _epoch(step: str) -> str:
    return _EPOCH.replace("{step}", "\n".join("        " + line for line in step.strip().splitlines()))


_FIT = '''
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, scheduler=None, patience=None):
    history, best, best_state, waited = [], None, None, 0
    for epoch in range(1, epochs + 1):
        {read_lr}
        train = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        if scheduler is not None:
            scheduler.step()
        {read_lr_after}
        val = evaluate(model, val_loader, loss_fn, device)
        history.append({"epoch": {epoch}, "train_loss": train["loss"], "train_accuracy": train["accuracy"],
                        "val_loss": val["loss"], "val_accuracy": val["accuracy"], "lr": lr})
        if best is None or val["accuracy"] {better} best:
            best, waited = val["accuracy"], 0
            best_state = {keep}
        else:
            waited += 1
            if patience is not None and waited {stop} patience:
                break
    {restore}
    return history
'''


def _fit(read_lr="lr = optimizer.param_groups[0]['lr']", read_lr_after="", epoch="epoch", better=">",
         keep="copy.deepcopy(model.state_dict())", stop=">=", restore="model.load_state_dict(best_state)") -> str:
    return (_FIT.replace("{read_lr}", read_lr or "pass").replace("{read_lr_after}", read_lr_after or "pass")
            .replace("{epoch}", epoch).replace("{better}", better).replace("{keep}", keep).replace("{stop}", stop)
            .replace("{restore}", restore or "pass"))


_SAVE = '''
def save_checkpoint(path, model, optimizer, epoch, scheduler=None):
    state = np.random.get_state(legacy=False)
    state["state"]["key"] = state["state"]["key"].tolist()
    checkpoint = {{"epoch": epoch, "model": model.state_dict(), "optimizer": {optimizer},
                   "scheduler": None if scheduler is None else scheduler.state_dict(),
                   "python_rng": random.getstate(), "numpy_rng": {numpy}, "torch_rng": {torch_rng},
                   "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}}
    torch.save(checkpoint, path)
'''


def _save(optimizer="optimizer.state_dict()", numpy="state", torch_rng="torch.get_rng_state()") -> str:
    return _SAVE.replace("{{", "{").replace("}}", "}").replace("{optimizer}", optimizer).replace(
        "{numpy}", numpy).replace("{torch_rng}", torch_rng)


_LOAD = '''
def load_checkpoint(path, model, optimizer=None, scheduler=None):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model"])
{restore}
    return {returned}
'''

_RESTORE = {
    "optimizer": '''    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])''',
    "scheduler": '''    if scheduler is not None and checkpoint["scheduler"] is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])''',
    "rng": '''    version, internal, gauss = checkpoint["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = checkpoint["numpy_rng"]
    numpy_state["state"]["key"] = np.array(numpy_state["state"]["key"], dtype=np.uint32)
    np.random.set_state(numpy_state)
    torch.set_rng_state(checkpoint["torch_rng"])
    if checkpoint["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(checkpoint["cuda_rng"])''',
}


def _load(skip: str = "", returned: str = 'checkpoint["epoch"]') -> str:
    body = "\n".join(code for name, code in _RESTORE.items() if name != skip)
    return _LOAD.replace("{restore}", body).replace("{returned}", returned)


_CNN = '''
def build_model():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8 * 14 * 14, 10))
'''

WRONG = [
    # ----- set_seed -----
    Wrong("set_seed", "only torch is seeded", '''
def set_seed(seed):
    torch.manual_seed(seed)
''', "Python's random is not seeded"),
    Wrong("set_seed", "NumPy seeded through a new Generator, not the global one", '''
def set_seed(seed):
    random.seed(seed)
    np.random.default_rng(seed)
    torch.manual_seed(seed)
''', "NumPy's global generator is not seeded"),
    Wrong("set_seed", "the seed argument is ignored", '''
def set_seed(seed):
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
''', "the seed argument is ignored"),

    # ----- train_one_epoch -----
    Wrong("train_one_epoch", "no zero_grad: gradients accumulate", _epoch('''
y_hat = model(X)
loss = loss_fn(y_hat, y)
loss.backward()
optimizer.step()
'''), "the gradients were never zeroed"),
    Wrong("train_one_epoch", "the mean of the batch means", '''
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    losses, accuracies = [], []
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        y_hat = model(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        accuracies.append(float((y_hat.argmax(dim=1) == y).float().mean()))
    return {"loss": sum(losses) / len(losses), "accuracy": sum(accuracies) / len(accuracies)}
''', "without weighting by batch size"),
    Wrong("train_one_epoch", "no model.train()", '''
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    total, correct, n = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        y_hat = model(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += len(y)
    return {"loss": total / n, "accuracy": correct / n}
''', "model.train() is missing"),
    Wrong("train_one_epoch", "the accuracy is a count", _epoch('''
optimizer.zero_grad()
y_hat = model(X)
loss = loss_fn(y_hat, y)
loss.backward()
optimizer.step()
''').replace('"accuracy": correct / n', '"accuracy": correct'), "the number correct, not the fraction"),
    Wrong("train_one_epoch", "zero_grad between backward and step", _epoch('''
y_hat = model(X)
loss = loss_fn(y_hat, y)
loss.backward()
optimizer.zero_grad()
optimizer.step()
'''), "wipes the gradients"),

    # ----- evaluate -----
    Wrong("evaluate", "no model.eval()", '''
def evaluate(model, loader, loss_fn, device):
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            y_hat = model(X)
            total += loss_fn(y_hat, y).item() * len(y)
            correct += int((y_hat.argmax(dim=1) == y).sum())
            n += len(y)
    return {"loss": total / n, "accuracy": correct / n}
''', "model.eval() is missing"),
    Wrong("evaluate", "no torch.no_grad()", '''
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
''', "torch.no_grad() is missing"),
    Wrong("evaluate", "the mean of the batch means", '''
def evaluate(model, loader, loss_fn, device):
    model.eval()
    losses, right, n = [], 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            y_hat = model(X)
            losses.append(loss_fn(y_hat, y).item())
            right += int((y_hat.argmax(dim=1) == y).sum())
            n += len(y)
    return {"loss": sum(losses) / len(losses), "accuracy": right / n}
''', "without weighting by batch size"),

    # ----- fit -----
    Wrong("fit", "the best weights kept without copying", _fit(keep="model.state_dict()"),
          "kept with state_dict() without copying"),
    Wrong("fit", ">= instead of > (a tie replaces the best epoch)", _fit(better=">="), "(>= instead of >)"),
    Wrong("fit", "the lr read after scheduler.step()", _fit(read_lr="", read_lr_after=
          "lr = optimizer.param_groups[0]['lr']"), "read after scheduler.step()"),
    Wrong("fit", "patience off by one", _fit(stop=">"), "one epoch late"),
    Wrong("fit", "epochs counting from 0", _fit(epoch="epoch - 1"), "count from 1"),
    Wrong("fit", "the best weights never restored", _fit(restore=""), "not restored"),

    # ----- save_checkpoint -----
    Wrong("save_checkpoint", "NumPy's state saved as an array", _save(numpy="np.random.get_state()"),
          "weights_only=True refuses"),
    Wrong("save_checkpoint", "the whole model pickled instead of its state_dict",
          _save().replace('"model": model.state_dict()', '"model": model'), "weights_only=True refuses"),
    Wrong("save_checkpoint", "the optimizer's state not saved", _save(optimizer="None"),
          "the optimizer's state_dict() is not saved"),
    Wrong("save_checkpoint", "torch's generator state not saved", _save(torch_rng="None"),
          "torch's generator state is not saved"),

    # ----- load_checkpoint -----
    Wrong("load_checkpoint", "the generators not restored", _load(skip="rng"), "state is not saved or not restored"),
    Wrong("load_checkpoint", "the optimizer not restored", _load(skip="optimizer"),
          "the optimizer's state is not restored"),
    Wrong("load_checkpoint", "the scheduler not restored", _load(skip="scheduler"),
          "the scheduler's state is not restored"),
    Wrong("load_checkpoint", "nothing returned", _load(returned="None"), "load_checkpoint returns the epoch"),

    # ----- build_model and HYPERPARAMS (the open part) -----
    Wrong("build_model", "no Flatten before the Linear layer", '''
def build_model():
    return nn.Sequential(nn.Linear(784, 10))

HYPERPARAMS = {"lr": 0.1, "batch_size": 64, "epochs": 1, "optimizer": "sgd", "weight_decay": 0.0}
''', "shapes cannot be multiplied"),
    Wrong("build_model", "a single output instead of ten logits", '''
def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 1))

HYPERPARAMS = {"lr": 0.1, "batch_size": 64, "epochs": 1, "optimizer": "sgd", "weight_decay": 0.0}
''', "to logits (N, 10)"),
    Wrong("build_model", "HYPERPARAMS without weight_decay", _CNN + '''
HYPERPARAMS = {"lr": 0.01, "batch_size": 64, "epochs": 2, "optimizer": "adam"}
''', "no key 'weight_decay'"),
    Wrong("build_model", "an optimizer the grader does not build", _CNN + '''
HYPERPARAMS = {"lr": 0.01, "batch_size": 64, "epochs": 2, "optimizer": "rmsprop", "weight_decay": 0.0}
''', "an optimizer the grader can build"),
    Wrong("build_model", "a learning rate so large the loss becomes NaN", '''
def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))

HYPERPARAMS = {"lr": 1e12, "batch_size": 64, "epochs": 2, "optimizer": "sgd", "weight_decay": 0.0}
''', "NaN"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("build_model", "a normalising tensor kept as a plain attribute: model.to(device) leaves it on the CPU", '''
HYPERPARAMS = {"lr": 0.002, "batch_size": 128, "epochs": 1, "optimizer": "adam", "weight_decay": 0.0}


class Normalise(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.full((1, 1, 1, 1), 0.2860)  # not a buffer (register_buffer), so .to() skips it

    def forward(self, X):
        return (X - self.mean) / 0.3530


def build_model():
    return nn.Sequential(Normalise(), nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
''', "keep its results on its inputs' device"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("evaluate", "edge case: unnormalised images divided by 255 in place", '''
def evaluate(model, loader, loss_fn, device):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            if X.max() > 1:  # raw pixels: scale them to [0, 1] first
                X /= 255
            y_hat = model(X)
            total += loss_fn(y_hat, y).item() * len(y)
            correct += int((y_hat.argmax(dim=1) == y).sum())
            n += len(y)
    return {"loss": total / n, "accuracy": correct / n}
''', "evaluate leaves the loader's images unmodified (images in [0, 255] in one batch)"),
    Wrong("train_one_epoch", "edge case: a single-example batch returns the accuracy as a tensor", '''
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total, correct, n = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        y_hat = model(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        hits = (y_hat.argmax(dim=1) == y).sum()
        correct += hits if len(y) == 1 else int(hits)  # one example: already a single number
        n += len(y)
    return {"loss": total / n, "accuracy": correct / n}
''', "train_one_epoch's 'accuracy' is a number"),
]
