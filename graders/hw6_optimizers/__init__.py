"""Hidden graders for hw6_optimizers (d2l 11 and the lecture notes). Never shipped to students.

``FORBIDDEN`` maps a contract task to the library calls that would do its exercise (docs/contract/
hw6_optimizers.md gives the reasons). For the five optimizers: every ``torch.optim`` optimizer class
(its ``__init__`` and ``step``: building one inside yours, subclassing one, or calling its step), the
functional API ``torch.optim._functional``, the private per-algorithm kernels behind it, and the fused
ATen kernels. ``torch._foreach_*`` list operations stay allowed: they are plain elementwise arithmetic
that a correct hand-written optimizer may use. The schedules and ``classify_critical_point`` forbid
nothing (the contract lists nothing for them). The names are those of torch 2.14; a name another
version lacks is simply not resolved by the monitor.
"""

OPTIMIZER_CLASSES = [
    "torch.optim.SGD", "torch.optim.Adagrad", "torch.optim.RMSprop", "torch.optim.Adam", "torch.optim.AdamW",
    "torch.optim.Adadelta", "torch.optim.Adamax", "torch.optim.ASGD", "torch.optim.NAdam", "torch.optim.RAdam",
    "torch.optim.Rprop", "torch.optim.LBFGS", "torch.optim.SparseAdam", "torch.optim.Adafactor", "torch.optim.Muon",
]

FUNCTIONAL = [
    "torch.optim._functional.sgd", "torch.optim._functional.adagrad", "torch.optim._functional.rmsprop",
    "torch.optim._functional.adam", "torch.optim._functional.adamw", "torch.optim._functional.adadelta",
    "torch.optim._functional.adamax", "torch.optim._functional.asgd", "torch.optim._functional.nadam",
    "torch.optim._functional.radam", "torch.optim._functional.rprop", "torch.optim._functional.sparse_adam",
]

KERNELS = [
    "torch.optim.sgd._single_tensor_sgd", "torch.optim.sgd._multi_tensor_sgd", "torch.optim.sgd._fused_sgd",
    "torch.optim.adagrad._single_tensor_adagrad", "torch.optim.adagrad._multi_tensor_adagrad",
    "torch.optim.adagrad._fused_adagrad", "torch.optim.rmsprop._single_tensor_rmsprop",
    "torch.optim.rmsprop._multi_tensor_rmsprop", "torch.optim.adam._single_tensor_adam",
    "torch.optim.adam._multi_tensor_adam", "torch.optim.adam._fused_adam",
    "torch.optim.adadelta._single_tensor_adadelta", "torch.optim.adadelta._multi_tensor_adadelta",
    "torch.optim.adamax._single_tensor_adamax", "torch.optim.adamax._multi_tensor_adamax",
    "torch.optim.asgd._single_tensor_asgd", "torch.optim.asgd._multi_tensor_asgd",
    "torch.optim.nadam._single_tensor_nadam", "torch.optim.nadam._multi_tensor_nadam",
    "torch.optim.radam._single_tensor_radam", "torch.optim.radam._multi_tensor_radam",
    "torch.optim.rprop._single_tensor_rprop", "torch.optim.rprop._multi_tensor_rprop",
]

FUSED = [
    "torch._fused_sgd_", "torch._fused_adagrad_", "torch._fused_adam_", "torch._fused_adamw_",
]

OPTIMIZER_CALLS = OPTIMIZER_CLASSES + FUNCTIONAL + KERNELS + FUSED
FORBIDDEN = {name: OPTIMIZER_CALLS for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")}
