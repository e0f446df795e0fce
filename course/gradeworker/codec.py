"""Plain-data wire format between the trusted grader and the student worker.

A message is a JSON header followed by raw tensor bytes. Nothing here can run code when it is read:
no pickle, no ``torch.load`` of arbitrary objects, no eval. The trusted side decodes whatever the
worker sends with ``decode`` and gets back only None, bool, int, float, str, list, tuple, dict,
torch.Tensor, torch.dtype, torch.device and ``Handle`` (a reference to an object that stays in the
worker).

Frame: 8-byte big-endian header length, the UTF-8 JSON header, then the blobs back to back; the
header's "blobs" field lists their lengths.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .protocol import ProtocolError  # defined there, torch-free; raised (and re-exported) here

MAX_HEADER_BYTES = 16 << 20  # a header is JSON: anything bigger is garbage or an attack
MAX_BLOB_BYTES = 1 << 30  # tensor data per message (a reply of 1 GiB costs the grader about that, once)
MAX_DEPTH = 64  # nesting of lists, tuples and dicts
DEVICES = ("cpu", "cuda")  # what a tensor may be rebuilt on; never meta, never a device named by the sender
_LEN = struct.Struct(">Q")


@dataclass(frozen=True)
class Handle:
    """A reference to an object that lives in the worker (a module, a generator, ...)."""

    id: int
    type: str
    repr: str = ""


_DTYPES = {str(d): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool,
)}

_DTYPE_NAMES = {d: name for name, d in _DTYPES.items()}


def tensor_meta(t: torch.Tensor) -> dict:
    """What the trusted side may want to know about a tensor besides its values."""
    return {
        "requires_grad": bool(t.requires_grad),
        "grad_fn": type(t.grad_fn).__name__ if t.grad_fn is not None else None,
        "is_leaf": bool(t.is_leaf),
        "cls": type(t).__name__,
        "device": str(t.device),
    }


def _encode(value: Any, blobs: list[bytes], to_handle: Callable[[Any], Handle] | None, depth: int) -> Any:
    if depth > 64:
        raise ProtocolError("value nested more than 64 levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if type(value) is int else int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, blobs)
    if isinstance(value, torch.dtype):
        return {"$t": "dtype", "v": str(value)}
    if isinstance(value, torch.device):
        return {"$t": "device", "v": str(value)}
    if isinstance(value, Handle):
        return {"$t": "handle", "id": value.id, "type": value.type, "repr": value.repr}
    if isinstance(value, (list, tuple)):  # subclasses (torch.Size, named tuples) go as the plain type
        items = [_encode(v, blobs, to_handle, depth + 1) for v in value]
        return items if isinstance(value, list) else {"$t": "tuple", "v": items}
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return {"$t": "dict", "v": [[k, _encode(v, blobs, to_handle, depth + 1)] for k, v in value.items()]}
    if _is_numpy_scalar_or_array(value):
        return _encode(torch.as_tensor(value) if hasattr(value, "shape") and value.shape else value.item(),
                       blobs, to_handle, depth + 1)
    if to_handle is None:
        raise ProtocolError(f"cannot send a {type(value).__name__} as plain data")
    return _encode(to_handle(value), blobs, to_handle, depth + 1)


def _is_numpy_scalar_or_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype")


def _encode_tensor(t: torch.Tensor, blobs: list[bytes]) -> dict:
    if t.layout != torch.strided:
        raise ProtocolError(f"cannot send a tensor with layout {t.layout}; use .to_dense()")
    dtype_name = _DTYPE_NAMES.get(t.dtype)
    if dtype_name is None:
        raise ProtocolError(f"cannot send a tensor of dtype {t.dtype}")
    meta = tensor_meta(t)
    # Send the tensor's storage as it is, not what a subclass's __torch_function__ says it is.
    with torch._C.DisableTorchFunctionSubclass():
        if (type(t) is torch.Tensor and t.device.type == "cpu" and t.dtype is not torch.bfloat16
                and not (t.is_conj() or t.is_neg())):
            # A plain CPU tensor: NumPy's tobytes copies it out in C order, whatever its strides.
            data = t.detach().numpy().tobytes() if t.numel() else b""
        else:
            flat = torch.empty(t.numel(), dtype=t.dtype)  # a fresh dense buffer, whatever t's strides
            flat.copy_(t.detach().cpu().reshape(-1))
            data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    blobs.append(data)
    return {"$t": "tensor", "blob": len(blobs) - 1, "dtype": dtype_name, "shape": list(t.shape), **meta}


def encode(message: Any, to_handle: Callable[[Any], Handle] | None = None) -> bytes:
    """Serialise ``message``; objects that are not plain data become handles via ``to_handle``."""
    blobs: list[bytes] = []
    body = _encode(message, blobs, to_handle, 0)
    header = json.dumps({"body": body, "blobs": [len(b) for b in blobs]}, allow_nan=True).encode()
    return b"".join([_LEN.pack(len(header)), header, *blobs])


def _decode(node: Any, blobs: list[memoryview], device_map: Callable[[str], str], depth: int = 0) -> Any:
    # `device_map` names the device a tensor is rebuilt on, from the device it was sent from.
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested more than {MAX_DEPTH} levels deep")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, blobs, device_map, depth + 1) for v in node]
    if not isinstance(node, dict):
        raise ProtocolError(f"unexpected JSON node {type(node).__name__}")
    tag = node.get("$t")
    if tag == "tuple":
        return tuple(_decode(v, blobs, device_map, depth + 1) for v in node["v"])
    if tag == "dict":
        return {_check_key(k): _decode(v, blobs, device_map, depth + 1) for k, v in node["v"]}
    if tag == "tensor":
        return _decode_tensor(node, blobs, device_map)
    if tag == "dtype":
        return _DTYPES[node["v"]]
    if tag == "device":
        return torch.device(_check_device(str(node["v"])))
    if tag == "handle":
        return Handle(int(node["id"]), str(node["type"])[:200], str(node["repr"])[:2000])
    raise ProtocolError(f"unknown tag {tag!r}")


def _check_device(name: str) -> str:
    kind, _, index = name.partition(":")
    if kind not in DEVICES or (index and not index.isdigit()):
        raise ProtocolError(f"device {name[:40]!r} is not one of {', '.join(DEVICES)}")
    return name


def _check_key(key: Any) -> str | int:
    if not isinstance(key, (str, int)):
        raise ProtocolError("dict keys must be str or int")
    return key


def _decode_tensor(node: dict, blobs: list[memoryview], device_map: Callable[[str], str]) -> torch.Tensor:
    dtype = _DTYPES.get(node["dtype"])
    if dtype is None:
        raise ProtocolError(f"unknown dtype {node['dtype']!r}")
    shape = [int(s) for s in node["shape"]]
    if any(s < 0 for s in shape):
        raise ProtocolError("negative tensor size")
    raw = blobs[int(node["blob"])]
    numel = 1
    for s in shape:
        numel *= s
    if len(raw) != numel * dtype.itemsize:
        raise ProtocolError("tensor byte count does not match its shape")
    device = device_map(_check_device(str(node.get("device", "cpu"))))
    if numel == 0:
        t = torch.empty(shape, dtype=dtype)
    else:  # a view of the message's own buffer (writable, read once): no copy on the way
        t = torch.frombuffer(raw, dtype=torch.uint8).view(dtype).reshape(shape)
    if device != "cpu":
        t = t.to(device)
    # Remember what the tensor was on the other side; the values themselves are a plain copy.
    meta = {k: node.get(k) for k in ("requires_grad", "grad_fn", "is_leaf", "cls", "device")}
    t.remote_meta = meta  # type: ignore[attr-defined]  # an attribute of our own on a torch.Tensor
    return t


def _same_device(name: str) -> str:
    if name.startswith("cuda") and not torch.cuda.is_available():
        return "cpu"
    return name


def decode(header: bytes | Any, blobs: list[memoryview], device_map: Callable[[str], str] = _same_device) -> Any:
    """Rebuild a message from its header (bytes, or already parsed) and blobs: plain data and Handles only.
    Whatever goes wrong on the way is a ProtocolError: a sender cannot make the reader fail otherwise."""
    try:
        parsed = json.loads(header) if isinstance(header, (bytes, bytearray, str)) else header
        return _decode(parsed["body"], blobs, device_map)
    except ProtocolError:
        raise
    except Exception as exc:  # RecursionError, OverflowError, MemoryError of a hostile header included
        raise ProtocolError(f"malformed message: {type(exc).__name__}: {str(exc)[:200]}") from None


def _read_exact(read: Callable[[int], bytes], n: int) -> bytearray:
    """Exactly ``n`` bytes into one buffer (no second copy of a large message)."""
    buffer, got = bytearray(n), 0
    while got < n:
        chunk = read(min(n - got, 1 << 24))
        if not chunk:
            raise EOFError("the other side closed the channel")
        buffer[got:got + len(chunk)] = chunk
        got += len(chunk)
    return buffer


def read_message(read: Callable[[int], bytes], device_map: Callable[[str], str] = _same_device,
                 max_blob_bytes: int = MAX_BLOB_BYTES) -> Any:
    """Read one framed message with ``read(n)`` (e.g. a socket's recv) and decode it."""
    (hlen,) = _LEN.unpack(bytes(_read_exact(read, _LEN.size)))
    if hlen > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {hlen} bytes is over the limit")
    try:
        parsed = json.loads(_read_exact(read, hlen))
        sizes = [int(n) for n in parsed["blobs"]]
    except EOFError:
        raise
    except Exception as exc:  # RecursionError, OverflowError (a length of 1e999) and the rest
        raise ProtocolError(f"malformed header: {type(exc).__name__}: {str(exc)[:200]}") from None
    if any(n < 0 for n in sizes) or sum(sizes) > max_blob_bytes:
        raise ProtocolError("tensor data over the size limit")
    data = memoryview(_read_exact(read, sum(sizes)))
    blobs, offset = [], 0
    for n in sizes:
        blobs.append(data[offset:offset + n])
        offset += n
    return decode(parsed, blobs, device_map)
