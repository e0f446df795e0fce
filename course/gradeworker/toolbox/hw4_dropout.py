"""hw4's worker-side instrument: what each layer of a student's network did in a forward pass (what a
dropout layer dropped, and with which ``p``)."""
from __future__ import annotations

import torch
from torch import nn


class CallRecorder:
    """Hooks every leaf module of ``net``; each forward pass appends one record per layer called.

    A record: the module's name and type; its ``p`` where it has a number there (dropout layers);
    for a layer whose output is shaped like its input, how many input elements were nonzero and how
    many of those came out zero (what a dropout layer dropped).
    """

    def __init__(self, net: nn.Module):
        self.calls: list[dict] = []
        self.hooks = [module.register_forward_hook(self._hook(name))
                      for name, module in net.named_modules() if name and not any(True for _ in module.children())]

    def _hook(self, name: str):
        def record(module: nn.Module, args: tuple, output: object) -> None:
            entry: dict = {"name": name, "type": type(module).__name__}
            p = getattr(module, "p", None)
            if isinstance(p, (int, float)) and not isinstance(p, bool):
                entry["p"] = float(p)
            x = args[0] if args else None
            if isinstance(x, torch.Tensor) and isinstance(output, torch.Tensor) and output.shape == x.shape:
                with torch.no_grad():
                    live = x != 0
                    entry["live"] = int(live.sum())
                    entry["zeroed"] = int((live & (output == 0)).sum())
            self.calls.append(entry)
        return record

    def clear(self) -> None:
        self.calls = []

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()
        self.hooks = []
