"""knn_predict(train_X, train_y, X, k) -> int64 labels: majority of the k nearest; ties to the nearest's class."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect, expect_general_rules, expect_tensor, inputs

HINT = ("squared distances ||x||^2 + ||t||^2 - 2 x.t, .topk(k, largest=False) for the nearest, one_hot(...).sum(1) "
        "for the votes; break ties by the nearest neighbour (e.g. add 0.5 ** (rank + 1) to each vote)")
# 20 ms fixed: a broadcast difference with argsort takes 6 ms on the shared 2-core machine, a loop over the
# 2000 rows of X over 100 ms.
BUDGET_FACTOR, BUDGET_EXTRA = 40, 20e-3
TIMED = [((2000, 3), (40, 3))]   # many queries: a loop over the rows of X pays 2000 iterations


def clusters(n, d, classes, dtype, device, spread=1.5):
    centres = 3 * torch.randn(classes, d, dtype=dtype, device=device)
    y = torch.randint(0, classes, (n,), device=device)
    return centres[y] + spread * torch.randn(n, d, dtype=dtype, device=device), y


def lowest_class_on_ties(train_X, train_y, X, k):
    nearest = torch.cdist(X.double(), train_X.double()).topk(k, largest=False).indices
    return F.one_hot(train_y[nearest], int(train_y.max()) + 1).sum(1).argmax(1)


def farthest_instead(train_X, train_y, X, k):
    far = torch.cdist(X.double(), train_X.double()).topk(k, largest=True).indices
    return F.one_hot(train_y[far], int(train_y.max()) + 1).sum(1).argmax(1)


@pytest.mark.points(7)
def test_predictions(student, ref, device, dtype):
    """On clustered data of 2 to 5 classes, for k = 1, 3, 7 and k = len(train_X), is every prediction right?"""
    for n, m, d, classes, k in [(60, 25, 2, 3, 1), (80, 30, 4, 5, 3), (50, 20, 3, 2, 7), (15, 6, 2, 3, 15)]:
        train_X, train_y = clusters(n, d, classes, dtype, device)
        X, _ = clusters(m, d, classes, dtype, device)
        where = inputs(train_X=train_X, train_y=train_y, X=X, k=k)
        expect_tensor(student.knn_predict(train_X, train_y, X, k), ref.knn_predict(train_X, train_y, X, k),
                      f"knn_predict with k={k}: the majority class of the k nearest training rows", inputs=where,
                      hint=HINT, mistakes={"the k farthest rows vote instead of the k nearest":
                                           lambda: farthest_instead(train_X, train_y, X, k)})
    # The general rules at the edges: X the same tensor as train_X, k = len(train_X) for one query, one training row.
    train_X, train_y = clusters(8, 2, 3, dtype, device)
    edges = [("X is train_X", (train_X, train_y, train_X, 1)),
             ("k = len(train_X), one query", (train_X, train_y, train_X[:1].clone(), 8)),
             ("one training row", (train_X[:1].clone(), train_y[:1].clone(), train_X, 1))]
    expect_general_rules(student.knn_predict.run, ref.knn_predict, edges, ["train_X", "train_y", "X", "k"],
                         "knn_predict")


@pytest.mark.points(4)
def test_ties_go_to_the_nearest(student, ref, device):
    """When two classes have equally many votes, does the class of the nearest neighbour win (not the smaller label)?"""
    train_X = torch.tensor([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]], device=device)
    train_y = torch.tensor([0, 1, 1, 0, 2, 2], device=device)
    X = torch.tensor([[1.4], [2.6], [0.4], [0.9], [10.4]], device=device)
    for k in (2, 4):
        where = inputs(train_X=train_X, train_y=train_y, X=X, k=k)
        expect_tensor(student.knn_predict(train_X, train_y, X, k), ref.knn_predict(train_X, train_y, X, k),
                      f"knn_predict with tied votes (k={k}): the nearest neighbour's class wins", inputs=where,
                      hint=HINT, mistakes={"ties go to the smallest label (argmax of the vote counts)":
                                           lambda: lowest_class_on_ties(train_X, train_y, X, k)})


@pytest.mark.points(4)
def test_vectorised_within_budget(student, ref, device):
    """Is it vectorised over the rows of X: at most 40 times X @ train_X.T's time plus 20 ms, best of 5 (float32)?"""
    knn = student.function("knn_predict", timeout=60)
    student.construct("torch.set_num_threads", 1)
    for x_shape, t_shape in TIMED:
        X, train_X = torch.randn(x_shape, device=device), torch.randn(t_shape, device=device)
        train_y = torch.randint(0, 4, (t_shape[0],), device=device)
        where = inputs(train_X=train_X, X=X, k=5)
        expect_tensor(knn(train_X, train_y, X, 5), ref.knn_predict(train_X, train_y, X, 5),
                      "knn_predict is right (the warm-up call)", inputs=where, hint=HINT)
        reference = student.construct("toolbox.best_seconds", "torch.matmul", X, train_X.T, repeats=5).get()
        budget = BUDGET_FACTOR * float(reference) + BUDGET_EXTRA
        best = min(knn.run((train_X, train_y, X, 5)).seconds for _ in range(5))
        expect(best <= budget, "knn_predict is vectorised: within 40 x (X @ train_X.T)'s time + 20 ms",
               inputs=where + " (float32; best of 5 after a warm-up, in the same process as the matmul)",
               expected=f"at most {budget * 1e3:.2f} ms", got=f"{best * 1e3:.2f} ms",
               mistake="a Python loop over the rows of X" if best > 1.25 * budget else None, hint=HINT)
