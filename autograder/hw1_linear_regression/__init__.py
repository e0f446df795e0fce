"""Hidden graders for hw1_linear_regression (d2l 3.1-3.3). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call.
"""
FORBIDDEN = {
    "normal_equation": ["torch.linalg.lstsq", "torch.linalg.pinv", "numpy.linalg.lstsq", "numpy.linalg.pinv"],
}
