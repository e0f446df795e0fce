"""Hidden graders for hw5_cnn (d2l 6.1-6.6, 7.5-7.6). Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function (or a method of the module it built) runs costs its points, with a message
naming the call. The contract's names come first in each list, then the same operation under its
other public and private spellings; the monitor also catches each through ``torch.ops.aten`` by its
base name (``torch.ops.aten.convolution``, ``aten::_convolution``, ``aten::max_pool2d_with_indices``).
``lenet`` and ``Residual`` may use ``nn.Conv2d`` and ``nn.BatchNorm2d``: nothing is forbidden there.
"""

CONV_CALLS = [
    "F.conv2d", "torch.conv2d", "nn.Conv2d", "torch.convolution", "torch._convolution", "F.conv_transpose2d",
    "torch.nn.grad.*",
    "F.conv1d", "F.conv3d", "torch.conv1d", "torch.conv3d", "torch.conv_transpose2d", "torch._convolution_mode",
    "torch.cudnn_convolution", "torch.mkldnn_convolution", "torch._nnpack_spatial_convolution", "torch.conv_tbc",
    "torch._C._nn.thnn_conv2d", "nn.Conv1d", "nn.Conv3d", "nn.ConvTranspose2d", "nn.LazyConv2d",
]
MAX_POOL_CALLS = [
    "F.max_pool2d", "torch.max_pool2d", "nn.MaxPool2d", "F.adaptive_max_pool2d",
    "torch.max_pool2d_with_indices", "F.max_pool2d_with_indices", "F.adaptive_max_pool2d_with_indices",
    "torch._C._nn.max_pool2d_with_indices", "torch._C._nn.adaptive_max_pool2d", "torch.mkldnn_max_pool2d",
    "torch.quantized_max_pool2d", "F.fractional_max_pool2d", "F.lp_pool2d", "nn.AdaptiveMaxPool2d",
    "F.max_pool1d", "F.max_pool3d", "torch.max_pool1d", "torch.max_pool3d",
]
AVG_POOL_CALLS = [
    "F.avg_pool2d", "torch.avg_pool2d", "nn.AvgPool2d", "F.adaptive_avg_pool2d",
    "torch._C._nn.avg_pool2d", "torch._C._nn.adaptive_avg_pool2d", "torch._adaptive_avg_pool2d",
    "nn.AdaptiveAvgPool2d", "F.avg_pool1d", "F.avg_pool3d", "torch.avg_pool1d",
]
NORM_CALLS = [
    "F.batch_norm", "torch.batch_norm", "nn.BatchNorm1d", "nn.BatchNorm2d", "F.layer_norm", "F.instance_norm",
    "F.group_norm",
    "torch.native_batch_norm", "torch._native_batch_norm_legit", "torch._native_batch_norm_legit_no_training",
    "torch._batch_norm_impl_index", "torch.cudnn_batch_norm", "torch.miopen_batch_norm", "torch.batch_norm_elemt",
    "torch.batch_norm_stats", "torch.batch_norm_gather_stats", "torch.layer_norm", "torch.native_layer_norm",
    "torch.instance_norm", "torch.group_norm", "torch.native_group_norm", "F.rms_norm", "torch.rms_norm",
    "nn.BatchNorm3d", "nn.LazyBatchNorm1d", "nn.LazyBatchNorm2d", "nn.SyncBatchNorm", "nn.LayerNorm",
    "nn.GroupNorm", "nn.InstanceNorm1d", "nn.InstanceNorm2d",
]

FORBIDDEN = {
    "corr2d": CONV_CALLS,
    "Conv2D": CONV_CALLS,
    "corr2d_multi_in": CONV_CALLS,
    "corr2d_multi_in_out": CONV_CALLS,
    "corr2d_multi_in_out_1x1": CONV_CALLS,
    "pool2d": MAX_POOL_CALLS + AVG_POOL_CALLS + CONV_CALLS,
    "conv2d": CONV_CALLS,
    "max_pool2d": MAX_POOL_CALLS,
    "avg_pool2d": AVG_POOL_CALLS + CONV_CALLS,
    "batch_norm": NORM_CALLS,
    "BatchNorm": NORM_CALLS,
}
