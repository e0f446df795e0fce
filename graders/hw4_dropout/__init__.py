"""Hidden graders for hw4_dropout (d2l 4.5-4.6). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs its points, with a message naming the call. The dropout layer
and the network are built on ``dropout_layer``, so PyTorch's dropout is off limits in all three.
"""
# The contract's five, then the same operation under its other public names (in place, native, fused).
DROPOUT_CALLS = ["F.dropout", "torch.dropout", "nn.Dropout", "F.alpha_dropout", "F.feature_alpha_dropout",
                 "torch.dropout_", "torch.native_dropout", "torch._fused_dropout", "torch.alpha_dropout",
                 "torch.feature_dropout", "torch.feature_alpha_dropout"]
FORBIDDEN = {"dropout_layer": DROPOUT_CALLS, "Dropout": DROPOUT_CALLS, "DropoutMLP": DROPOUT_CALLS}
