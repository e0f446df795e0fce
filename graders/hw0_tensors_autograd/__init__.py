"""Hidden graders for hw0_tensors_autograd (d2l 2.1-2.5; Liu Er 2-4). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call.
"""
# The distance matrix in one call, under its names (ATen's cdist and its Euclidean kernel included).
DISTANCE = ["torch.cdist", "F.pairwise_distance", "torch.pairwise_distance", "torch.ops.aten.*cdist*",
            "torch.ops.aten._euclidean_dist"]
# Autograd, by every public entry point: the backward passes (and the numerical check) are written by hand.
AUTOGRAD = ["Tensor.backward", "torch.autograd.backward", "torch.autograd.grad", "torch.autograd.functional.*",
            "torch.func.grad", "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jacrev",
            "torch.func.jacfwd"]

FORBIDDEN = {
    "pairwise_sq_dists": DISTANCE,
    "linear_graph": AUTOGRAD,
    "sigmoid_graph": AUTOGRAD,
    "numerical_gradient": AUTOGRAD,
}
