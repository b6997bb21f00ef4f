"""The contract's training loop, run by the grader around a submission's own functions.

``train`` is one loop around three functions the student also writes. Running the contract's loop here,
with those three functions called one at a time (in the sandbox), gives what a correct ``train`` returns
*for that student's functions*: the train checks judge ``train`` against it (error carried forward: a
wrong ``adagrad_step`` is not ``train``'s fault), and the report's long run uses it to sample and keep
the best model without restarting. Each update, for the window at position e::

    X = text[e : e+seq_length], Y = text[e+1 : e+seq_length+1]   (one-hot columns)
    grads, loss, h_last = compute_gradients(params, X, Y, hprev)
    adagrad_step(params, clip_gradients(grads, clip_bound), memory, eta)     # params, memory in place
    smooth = loss at the first update, then decay * smooth + (1 - decay) * loss
    hprev = h_last; e += seq_length; when e > len(text) - seq_length - 1: e = 0, hprev = zeros

``Rules`` holds the loop's conventions (from the contract) and, for the differential diagnosis, the
classic ways a student's loop departs from it; with the switches at their defaults it is the contract.

Use::

    loop = DrivenLoop(SandboxFunctions(box_caller(box, contract)), text, params, eta=0.1, seq_length=25,
                      rules=Rules.from_conventions(contract.conventions))
    for update in loop.updates(10_000):     # one Update per step; loop.params etc. are the state after it
        ...                                 # e.g. sample with synthesize every 1000 updates
    params, smooth = loop.params, loop.curve
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from grader.contract import Contract, Conventions, conform, conform_params
from grader.sandbox import Sandbox

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Rules:
    """The loop's conventions and, switched away from their defaults, the classic departures from them."""

    clip_bound: float = 5.0
    smooth_decay: float = 0.999
    clip: bool = True  # False: the gradients go to the optimizer unclipped
    carry: bool = True  # False: every update starts from hprev = zeros
    reset: bool = True  # False: hprev is not set back to zeros when the position wraps
    early_wrap: bool = False  # True: wraps when e >= len(text) - seq_length - 1, one window early
    uniform_start: bool = False  # True: the smooth loss starts at -log(1/K) * seq_length (min-char-rnn)
    target_offset: int = 1  # Y starts this many characters after X (the contract: the next character)
    loss_after_update: bool = False  # True: the loss recorded is the window's loss after the update

    @classmethod
    def from_conventions(cls, conventions: Conventions, **switches) -> Rules:
        return cls(clip_bound=conventions.clip_bound, smooth_decay=conventions.smooth_decay, **switches)

    def but(self, **switches) -> Rules:
        return replace(self, **switches)


class Functions(Protocol):
    """The three functions one update calls (and forward, for ``loss_after_update`` only)."""

    def compute_gradients(self, params: Params, X, Y, h) -> tuple[Params, float, np.ndarray]: ...

    def clip_gradients(self, grads: Params, bound: float) -> Params: ...

    def step(self, params: Params, grads: Params, memory: Params, eta: float, unclipped: Params) -> tuple[Params, Params]:
        """One optimizer step; returns params and memory as the step left them. ``unclipped``: the
        gradients before clipping (a diagnosis variant may use them; a submission's function never sees them)."""
        ...

    def loss(self, params: Params, X, Y, h) -> float: ...


# call_keeping(function, *args, keep=(indices), dims=..., describe=...) -> (conformed values, args after)
CallKeeping = Callable[..., tuple[tuple, tuple]]


class SandboxFunctions:
    """A submission's functions, each called in its sandbox through ``call_keeping`` (a check's
    ``Ctx.call_keeping``, or ``box_caller`` for a plain Sandbox); ``describe`` says which run it is.

    ``optimizer`` is the contract's step function (Conventions.optimizer.function): ``adagrad_step(params,
    grads, memory, eta)``, or ``adam_step(params, grads, first, second, t, eta)``, whose first moment and
    step count live here (the loop's memory is the second moment).
    """

    def __init__(self, call_keeping: CallKeeping, describe: str = "the contract's training loop",
                 optimizer: str = "adagrad_step"):
        self._call = call_keeping
        self.describe = describe
        self.optimizer = optimizer
        self.update = 0  # set by the loop, for messages
        self._first: Params | None = None
        self._t = 0

    def _dims(self, params: Params, X=None) -> dict[str, int]:
        dims = {"K": params["c"].shape[0], "m": params["W"].shape[0]}
        return dims if X is None else {**dims, "tau": X.shape[1]}

    def _where(self, function: str) -> str:
        return f"{self.describe}, update {self.update}: {function}"

    def compute_gradients(self, params, X, Y, h):
        values, _ = self._call("compute_gradients", params, X, Y, h, keep=(), dims=self._dims(params, X),
                               describe=self._where("compute_gradients"))
        return values

    def clip_gradients(self, grads, bound):
        (clipped,), _ = self._call("clip_gradients", grads, bound, keep=(), dims=self._dims(grads),
                                   describe=self._where("clip_gradients"))
        return clipped

    def step(self, params, grads, memory, eta, unclipped):
        if self.optimizer == "adam_step":
            self._t += 1
            first = self._first or {k: np.zeros_like(v) for k, v in params.items()}
            _, (params, self._first, memory) = self._call(
                "adam_step", params, grads, first, memory, self._t, eta, keep=(0, 2, 3), dims=self._dims(params),
                describe=self._where("adam_step"))
            return params, memory
        _, (params, memory) = self._call(self.optimizer, params, grads, memory, eta, keep=(0, 2),
                                         dims=self._dims(params), describe=self._where(self.optimizer))
        return params, memory

    def loss(self, params, X, Y, h):
        (loss, _, _), _ = self._call("forward", params, X, Y, h, keep=(), dims=self._dims(params, X),
                                     describe=self._where("forward"))
        return loss


def box_caller(box: Sandbox, contract: Contract) -> CallKeeping:
    """``call_keeping`` for a plain Sandbox: raises the sandbox's CallFailed or ContractViolation as they come."""

    def call_keeping(function, *args, keep, dims, describe):
        reply = box.call(function, *args, return_args=keep, describe=describe)
        values = conform(contract, function, reply.value, dims)
        after = tuple(conform_params(contract, reply.args_after[i], dims, f"after the call, {function} left it")
                      for i in keep)
        return values, after

    return call_keeping


@dataclass(frozen=True)
class Update:
    """What one update did: its number (1-based), the window's loss, the smooth loss after it, where its
    window started and whether the position wrapped to 0 after it."""

    number: int
    loss: float
    smooth_loss: float
    position: int
    wrapped: bool


class DrivenLoop:
    """The loop's state (params, memory, hprev, position, smooth loss) and its updates; resumable."""

    def __init__(self, functions: Functions, text: str, params: Params, *, eta: float, seq_length: int,
                 rules: Rules = Rules()):
        if len(text) < seq_length + rules.target_offset:
            raise ValueError(f"text of length {len(text)} is shorter than seq_length + 1 = {seq_length + 1}")
        self.functions = functions
        self.rules = rules
        self.eta = eta
        self.seq_length = seq_length
        self.vocab = sorted(set(text))
        self._ids = np.searchsorted(np.array([ord(c) for c in self.vocab]), [ord(c) for c in text])
        self._eye = np.eye(len(self.vocab))
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.memory = {k: np.zeros_like(v) for k, v in self.params.items()}
        m = self.params["W"].shape[0]
        self.hprev = np.zeros((m, 1))
        self.position = 0
        self.smooth_loss: float | None = (
            -np.log(1.0 / len(self.vocab)) * seq_length if rules.uniform_start else None
        )
        self.count = 0
        self.curve: list[float] = []

    def _window(self, start: int) -> np.ndarray:
        return self._eye[:, self._ids[start : start + self.seq_length]]

    def next_inputs(self) -> tuple[Params, np.ndarray, np.ndarray, np.ndarray]:
        """What the next update passes compute_gradients: (params, X, Y, hprev)."""
        e = self.position
        return self.params, self._window(e), self._window(e + self.rules.target_offset), self.hprev

    def updates(self, n: int) -> Iterator[Update]:
        """Run n more updates, yielding after each; the state attributes are those after the update."""
        rules, text_length = self.rules, len(self._ids)
        m = self.params["W"].shape[0]
        for _ in range(n):
            self.count += 1
            if hasattr(self.functions, "update"):
                self.functions.update = self.count
            e = self.position
            _, X, Y, _ = self.next_inputs()
            grads, loss, h_last = self.functions.compute_gradients(self.params, X, Y, self.hprev)
            clipped = self.functions.clip_gradients(grads, rules.clip_bound) if rules.clip else grads
            self.params, self.memory = self.functions.step(self.params, clipped, self.memory, self.eta, grads)
            if rules.loss_after_update:
                loss = self.functions.loss(self.params, X, Y, self.hprev)
            loss = float(loss)
            decay = rules.smooth_decay
            self.smooth_loss = loss if self.smooth_loss is None else decay * self.smooth_loss + (1 - decay) * loss
            self.curve.append(self.smooth_loss)
            self.hprev = np.asarray(h_last, dtype=np.float64) if rules.carry else np.zeros((m, 1))
            self.position = e + self.seq_length
            wrapped = self.position > text_length - self.seq_length - 1 - rules.early_wrap
            if wrapped:
                self.position = 0
                if rules.reset:
                    self.hprev = np.zeros((m, 1))
            yield Update(self.count, loss, self.smooth_loss, e, wrapped)

    def run(self, n: int) -> tuple[Params, np.ndarray]:
        """n more updates; returns (params, the smooth loss after every update so far), as train does."""
        for _ in self.updates(n):
            pass
        return self.params, np.array(self.curve)
