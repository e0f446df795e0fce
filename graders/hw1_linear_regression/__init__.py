"""Hidden graders for hw1_linear_regression (d2l 3.1-3.3). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call.
"""
FORBIDDEN = {
    # The contract's four, then the same operations under their other names: torch.pinverse and its
    # Tensor method, SciPy's, and the ATen operators (caught at the dispatcher, whatever the route).
    # torch.linalg.solve on the normal equations is allowed: it is the exercise.
    "normal_equation": ["torch.linalg.lstsq", "torch.linalg.pinv", "numpy.linalg.lstsq", "numpy.linalg.pinv",
                        "torch.pinverse", "Tensor.pinverse", "scipy.linalg.lstsq", "scipy.linalg.pinv",
                        "scipy.linalg.pinvh", "torch.ops.aten.*lstsq*", "torch.ops.aten.*pinv*"],
}
