"""Hidden graders for hw2_softmax_regression (d2l 3.4-3.7). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call. The
contract's names come first; after them, the same operations under other names (the Tensor
methods, ``torch.special``, the module forms and the private ATen entry points), so that no
spelling of "softmax" or "log-sum-exp" slips through.
"""
_SOFTMAX_ALIASES = [
    "Tensor.softmax", "Tensor.log_softmax", "Tensor.logsumexp",
    "torch.special.softmax", "torch.special.log_softmax", "torch.special.logsumexp",
    "torch._softmax", "torch._log_softmax", "F.softmin", "nn.Softmin", "nn.LogSoftmax",
    "torch.sparse.softmax", "torch.sparse.log_softmax",
    # operators that compute a softmax on the way: attention is softmax(Q K^T / sqrt(d)) V
    "F.scaled_dot_product_attention", "nn.MultiheadAttention",
    # the ATen operators themselves (caught at the dispatcher: partial, map, threads, TorchScript, ...)
    "torch.ops.aten.*softmax", "torch.ops.aten.*logsumexp", "torch.ops.aten._*attention*",
]

FORBIDDEN = {
    "softmax": ["torch.softmax", "F.softmax", "torch.log_softmax", "F.log_softmax", "nn.Softmax",
                "torch.logsumexp", *_SOFTMAX_ALIASES],
    "cross_entropy_from_logits": ["F.cross_entropy", "nn.CrossEntropyLoss", "F.nll_loss", "F.log_softmax",
                                  "torch.log_softmax", "torch.logsumexp", "torch.softmax", "F.softmax",
                                  "nn.Softmax", "nn.NLLLoss", *_SOFTMAX_ALIASES, "torch.ops.aten.nll_loss*",
                                  "torch.ops.aten.cross_entropy_loss"],
}

