"""d2l 22.11 (Information Theory, in the appendix Mathematics for Deep Learning), under hw8's contract names.

The book's ``entropy`` and ``kl_divergence`` take one distribution and use base 2 (``torch.log2``) with its
own ``nansum``; its ``cross_entropy`` takes predicted probabilities and integer labels (the classification
loss), not two distributions: they are the book's code for these functions, written as the book writes them.

Left out, because d2l has no code for them: ``binary_cross_entropy_with_logits`` (the book's only one, 15.x's
``SigmoidBCELoss``, calls ``F.binary_cross_entropy_with_logits``, which is forbidden here), ``knn_predict``,
``contrastive_loss``, ``triplet_loss`` and ``batch_hard_triplet_loss``.
"""
import torch


def nansum(x):
    # Define nansum, as pytorch does not offer it inbuilt.
    return x[~torch.isnan(x)].sum()


def entropy(p):
    entropy = - p * torch.log2(p)
    # Operator `nansum` will sum up the non-nan number
    out = nansum(entropy)
    return out


def kl_divergence(p, q):
    kl = p * torch.log2(p / q)
    out = nansum(kl)
    return out.abs().item()


def cross_entropy(y_hat, y):
    ce = -torch.log(y_hat[range(len(y_hat)), y])
    return ce.mean()
