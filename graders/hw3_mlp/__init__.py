"""Hidden graders for hw3_mlp (d2l 4.1-4.3, 4.8). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call. The contract
gives relu, sigmoid and tanh one list (sigmoid through torch.tanh is as much a library sigmoid as
torch.sigmoid); to its names come the tensor methods and in-place forms of the same functions. The
monitor also catches the ATen operators behind each name (``torch.ops.aten.sigmoid(X)``).
"""

ACTIVATIONS = [
    "torch.relu", "F.relu", "torch.sigmoid", "F.sigmoid", "torch.special.expit", "torch.tanh", "F.tanh",
    "nn.ReLU", "nn.Sigmoid", "nn.Tanh",
    "Tensor.relu", "Tensor.sigmoid", "Tensor.tanh", "Tensor.relu_", "Tensor.sigmoid_", "Tensor.tanh_",
    "torch.relu_", "F.relu_", "torch.sigmoid_", "torch.tanh_",
]

FORBIDDEN = {
    "relu": ACTIVATIONS,
    "sigmoid": ACTIVATIONS,
    "tanh": ACTIVATIONS,
    "xavier_uniform_": ["nn.init.xavier_uniform_", "nn.init.xavier_normal_"],
}
