"""The wire format between grader and worker carries plain data only, and refuses anything else."""
from __future__ import annotations

import json
import math

import pytest
import torch

from gradeworker import codec


def reader(data: bytes):
    """read(n) over a byte string, as a socket's recv reads a stream."""
    view, offset = memoryview(data), 0

    def read(n):
        nonlocal offset
        chunk = bytes(view[offset:offset + n])
        offset += n
        return chunk
    return read


def roundtrip(value, to_handle=None):
    return codec.read_message(reader(codec.encode(value, to_handle)))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64,
                                   torch.uint8, torch.bool, torch.complex64])
def test_do_tensors_of_every_dtype_come_back_equal(dtype):
    t = (torch.randn(3, 4) * 10).to(dtype)
    back = roundtrip(t)
    assert back.dtype == dtype and back.shape == t.shape and torch.equal(back, t)


def test_do_odd_layouts_come_back_as_dense_equal_tensors():
    base = torch.arange(24.0).reshape(4, 6)
    odd = (base.T, base[:, ::2], base[-1], torch.tensor(3.5), torch.empty(0, 5), base.expand(2, 4, 6),
           base.T[:1, :1], base.T[:, :1], base[::2, 1::3].T,  # size-1 dims with any stride count as contiguous
           base.to(torch.bfloat16).T, torch.complex(base, -base).conj(), (-base)._neg_view())
    for t in odd:
        back = roundtrip(t)
        assert back.dtype == t.dtype and back.shape == t.shape and torch.equal(back, t.resolve_conj().resolve_neg())


def test_are_containers_and_scalars_kept_apart():
    value = {"list": [1, 2.5, None, True], "tuple": (1, "a"), 3: {"nested": [torch.ones(2)]},
             "dtype": torch.float64, "device": torch.device("cpu"), "nan": float("nan"), "inf": -math.inf}
    back = roundtrip(value)
    assert back["list"] == [1, 2.5, None, True] and back["tuple"] == (1, "a")
    assert torch.equal(back[3]["nested"][0], torch.ones(2))
    assert back["dtype"] is torch.float64 and back["device"] == torch.device("cpu")
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf


def test_is_metadata_recorded_but_the_value_a_plain_tensor():
    class Spoof(torch.Tensor):
        def __eq__(self, other):
            return True

    w = torch.randn(3, requires_grad=True)
    out = (w * 2).as_subclass(Spoof)
    back = roundtrip(out)
    assert type(back) is torch.Tensor and not back.requires_grad
    assert back.remote_meta["cls"] == "Spoof" and back.remote_meta["requires_grad"]
    assert torch.equal(back, (w * 2).detach())


def test_do_objects_that_are_not_data_need_a_handle():
    with pytest.raises(codec.ProtocolError):
        codec.encode({"f": lambda x: x})
    back = roundtrip({"f": print}, to_handle=lambda obj: codec.Handle(7, "builtins.function", "print"))
    assert back["f"] == codec.Handle(7, "builtins.function", "print")


def _frame(header: dict, blobs: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "big") + raw + blobs


@pytest.mark.parametrize("header, blobs", [
    ({"body": {"$t": "pickle", "v": "gASV"}, "blobs": []}, b""),
    ({"body": {"$t": "tensor", "blob": 0, "dtype": "torch.float32", "shape": [4]}, "blobs": [3]}, b"abc"),
    ({"body": {"$t": "tensor", "blob": 0, "dtype": "torch.float32", "shape": [-1]}, "blobs": [0]}, b""),
    ({"body": {"$t": "tensor", "blob": 0, "dtype": "object", "shape": [1]}, "blobs": [8]}, b"x" * 8),
    ({"body": {"$t": "dict", "v": [[["list", "key"], 1]]}, "blobs": []}, b""),
    ({"no body": 1, "blobs": []}, b""),
])
def test_is_a_malformed_message_refused(header, blobs):
    with pytest.raises(codec.ProtocolError):
        codec.read_message(reader(_frame(header, blobs)))


def test_is_an_oversized_header_refused_before_it_is_read():
    data = (codec.MAX_HEADER_BYTES + 1).to_bytes(8, "big")
    with pytest.raises(codec.ProtocolError):
        codec.read_message(lambda n: data[:n])


def test_does_the_codec_never_unpickle():
    import inspect
    source = inspect.getsource(codec)
    assert "pickle" not in source.replace("no pickle", "") and "torch.load" not in source.replace("no ``torch.load", "")


def _raw_frame(header: bytes, blob: bytes = b"") -> bytes:
    return codec._LEN.pack(len(header)) + header + blob


@pytest.mark.parametrize("header", [
    b'{"body": ' + b"[" * 200_000 + b"]" * 200_000 + b', "blobs": []}',  # RecursionError in json
    b'{"body": null, "blobs": [1e999]}',  # OverflowError turning inf into a length
    b'{"body": null, "blobs": [-1]}',
    b'{"body": {"$t": "tensor", "blob": 0, "dtype": "torch.float32", "shape": [1], "device": "meta"}, "blobs": [4]}',
    b'{"body": {"$t": "device", "v": "meta"}, "blobs": []}',
    b'{"body": {"$t": "tensor", "blob": 0, "dtype": "torch.float32", "shape": [4611686018427387904, 4], '
    b'"device": "cpu"}, "blobs": [4]}',
    b'{"body": {"$t": "dtype", "v": "torch.qint8"}, "blobs": []}',
    b'{"body": ' + b'{"$t": "tuple", "v": [' * 100 + b"1" + b"]}" * 100 + b', "blobs": []}',
    b"not json at all",
])
def test_is_a_hostile_frame_a_protocol_error_and_nothing_else(header):
    with pytest.raises(codec.ProtocolError):
        codec.read_message(reader(_raw_frame(header, b"\0" * 4)))


def test_is_a_reply_over_the_size_limit_refused_before_it_is_read():
    huge = json.dumps({"body": None, "blobs": [codec.MAX_BLOB_BYTES + 1]}).encode()
    with pytest.raises(codec.ProtocolError, match="size limit"):
        codec.read_message(reader(_raw_frame(huge)))
