"""Hidden graders for hw8_metric_learning (Liu Er 6-8; the notes on entropy, metric learning and KNN). Never shipped.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call. The open part
(``build_embedder``, ``HYPERPARAMS`` and ``train_embedder``, graded by training and KNN) is ``test_build_embedder.py``:
its training call may not use the library's triplet losses either. ``DATA`` names the course data set it needs
(``autograder.integrity.fallback_notice``).
"""
TRIPLET = ["F.triplet_margin_loss", "nn.TripletMarginLoss", "torch.triplet_margin_loss",
           "F.triplet_margin_with_distance_loss", "nn.TripletMarginWithDistanceLoss"]
CDIST = ["torch.cdist", "torch.ops.aten.*cdist*", "torch.ops.aten._euclidean_dist"]

FORBIDDEN = {
    "entropy": ["torch.special.entr", "torch.distributions.*"],
    "kl_divergence": ["F.kl_div", "torch.kl_div", "torch.distributions.kl.*", "torch.ops.aten.kl_div"],
    "cross_entropy": ["F.cross_entropy", "F.nll_loss", "nn.CrossEntropyLoss", "nn.NLLLoss"],
    "binary_cross_entropy_with_logits": ["F.binary_cross_entropy", "F.binary_cross_entropy_with_logits",
                                         "nn.BCELoss", "nn.BCEWithLogitsLoss",
                                         "torch.binary_cross_entropy_with_logits",
                                         "torch.ops.aten.*binary_cross_entropy*"],
    # scikit-learn's neighbours by name: its classes live in private submodules, which sklearn.neighbors.* misses
    "knn_predict": CDIST + [f"sklearn.neighbors.{name}" for name in (
        "KNeighborsClassifier", "NearestNeighbors", "KNeighborsRegressor", "RadiusNeighborsClassifier",
        "NearestCentroid", "KDTree", "BallTree", "kneighbors_graph")],
    "triplet_loss": TRIPLET,
    "batch_hard_triplet_loss": TRIPLET + CDIST,
    "train_embedder": TRIPLET,  # the open part trains with the student's own triplet loss
}
DATA = "Fashion-MNIST"  # the course data the open part needs: missing, grading says so everywhere (integrity.py)
