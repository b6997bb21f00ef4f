"""The suite's cases, defined once and composed by every check.

Hypothesis draws only small integers, choices and a seed; each case builds its arrays from
``numpy.random.default_rng(seed)`` in a fixed order. Shrinking then moves towards small sizes and seed 0,
cases stay cheap to generate, and a case is described completely by the fields it prints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from types import MappingProxyType

import numpy as np
from hypothesis import strategies as st

from grader.checks.compare import show
from grader.contract import wraps

PARAM_NAMES = ("b", "c", "U", "W", "V")
ALPHABET = "abcdefgh"
SHOW_PARAMS = 30  # parameter sets with at most this many entries are printed in feedback

seeds = st.integers(0, 2**16)
# Shrinking moves to the first scale: moderate, so a failing case reads naturally.
scales = st.sampled_from([0.5, 1.0, 0.1, 2.0])


def _shapes(K: int, m: int) -> dict[str, tuple[int, int]]:
    return {"b": (m, 1), "c": (K, 1), "U": (m, K), "W": (m, m), "V": (K, m)}


def random_params(rng: np.random.Generator, K: int, m: int, scale: float) -> dict[str, np.ndarray]:
    """Every entry, biases included, scale * N(0, 1), drawn in the order b, c, U, W, V."""
    return {k: scale * rng.standard_normal(s) for k, s in _shapes(K, m).items()}


def flat(params: dict[str, np.ndarray], keys=PARAM_NAMES) -> np.ndarray:
    """The entries of ``keys`` of a params-shaped dict as one vector, in contract order."""
    return np.concatenate([params[k].ravel() for k in keys])


def copy_params(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in params.items()}


def onehot(indices, K: int) -> np.ndarray:
    return np.eye(K)[:, np.asarray(indices, dtype=int)]


def softmax_columns(O: np.ndarray) -> np.ndarray:
    """Softmax of every column: the model's distributions p_t, one per time step."""
    E = np.exp(O - O.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _show_params(params: dict[str, np.ndarray]) -> str:
    if sum(v.size for v in params.values()) > SHOW_PARAMS:
        return ""
    return "; ".join(f"{k} = {show(v)}" for k, v in params.items())


@dataclass(frozen=True)
class Sequence:
    """Parameters, one-hot X and Y of length tau, and h0: the arguments of forward and compute_gradients."""

    K: int
    m: int
    tau: int
    scale: float
    seed: int
    same_target: bool = False  # every y_t the same character, so that dL/dc piles up past the clip bound
    logit_offset: float = 0.0  # added to every entry of c: every logit this far from 0, differences unchanged
    v_scale: float = 1.0  # V multiplied by this: with the mean loss, large V takes db, dU, dW past the clip bound

    @cached_property
    def _arrays(self):
        rng = np.random.default_rng(self.seed)
        params = random_params(rng, self.K, self.m, self.scale)
        params["c"] += self.logit_offset
        params["V"] *= self.v_scale
        h0 = np.tanh(rng.standard_normal((self.m, 1)))
        xs = rng.integers(0, self.K, self.tau)
        ys = np.full(self.tau, int(rng.integers(self.K))) if self.same_target else rng.integers(0, self.K, self.tau)
        return params, h0, xs, ys

    @property
    def params(self) -> dict[str, np.ndarray]:
        return copy_params(self._arrays[0])

    @property
    def h0(self) -> np.ndarray:
        return self._arrays[1].copy()

    @property
    def xs(self) -> np.ndarray:
        return self._arrays[2]

    @property
    def ys(self) -> np.ndarray:
        return self._arrays[3]

    @property
    def X(self) -> np.ndarray:
        return onehot(self.xs, self.K)

    @property
    def Y(self) -> np.ndarray:
        return onehot(self.ys, self.K)

    @property
    def dims(self) -> dict[str, int]:
        return {"K": self.K, "m": self.m, "tau": self.tau}

    @property
    def args(self) -> tuple:
        return self.params, self.X, self.Y, self.h0

    def summary(self) -> str:
        return f"K={self.K}, m={self.m}, tau={self.tau}"

    def resized(self, **dims) -> Sequence:
        """The same draw at other sizes (K, m, tau)."""
        return replace(self, **dims)

    def describe(self) -> str:
        offset = f" (c plus {self.logit_offset:g}, so every logit is about {self.logit_offset:g})" if self.logit_offset else ""
        offset += f" (V then times {self.v_scale:g})" if self.v_scale != 1 else ""
        lines = [
            f"{self.summary()}; every entry of b, c, U, W, V is {self.scale:g} * N(0, 1){offset}, h0 = tanh(N(0, 1)) "
            f"(numpy seed {self.seed}); X = one-hot of {self.xs.tolist()}, Y = one-hot of {self.ys.tolist()}"
        ]
        if shown := _show_params(self._arrays[0]):
            lines.append(f"  {shown}; h0 = {show(self._arrays[1])}")
        return "\n".join(lines)


# Typical sizes: a bug that shows at every size shows here, and shrinking cannot move a case into a
# degenerate size (m = 1, tau = 1, K = 2) where it might hide; those have checks of their own.
TYPICAL = MappingProxyType({"K": (3, 6), "m": (2, 6), "tau": (2, 6)})
EDGES = MappingProxyType({"K": 2, "m": 1, "tau": 1})


def sequences(K=TYPICAL["K"], m=TYPICAL["m"], tau=TYPICAL["tau"], scale=scales, same_target=False,
              logit_offset=st.just(0.0), v_scale=st.just(1.0)):
    return st.builds(
        Sequence, K=st.integers(*K), m=st.integers(*m), tau=st.integers(*tau), scale=scale, seed=seeds,
        same_target=st.just(same_target), logit_offset=logit_offset, v_scale=v_scale,
    )


@st.composite
def edge_sequences(draw):
    """Typical cases with one or more sizes at its degenerate value: m = 1, tau = 1 or K = 2."""
    case = draw(sequences())
    edges = draw(st.sets(st.sampled_from(sorted(EDGES)), min_size=1))
    return case.resized(**{d: EDGES[d] for d in edges})


@dataclass(frozen=True)
class ParamSets:
    """``count`` dicts shaped like params, each entry scale * N(0, 1) (e.g. params, then gradients)."""

    K: int
    m: int
    count: int
    scale: float
    seed: int

    @cached_property
    def _sets(self):
        rng = np.random.default_rng(self.seed)
        return [random_params(rng, self.K, self.m, self.scale) for _ in range(self.count)]

    def get(self, i: int) -> dict[str, np.ndarray]:
        return copy_params(self._sets[i])

    @property
    def dims(self) -> dict[str, int]:
        return {"K": self.K, "m": self.m}

    def summary(self) -> str:
        return f"K={self.K}, m={self.m}, entries {self.scale:g} * N(0, 1)"

    def describe(self) -> str:
        shown = [s for s in (_show_params(p) for p in self._sets) if s]
        return "\n".join([f"{self.summary()} (numpy seed {self.seed})"] + [f"  set {i}: {s}" for i, s in enumerate(shown)])


def param_sets(count: int, K=(2, 5), m=(1, 5), scale=scales):
    return st.builds(ParamSets, K=st.integers(*K), m=st.integers(*m), count=st.just(count), scale=scale, seed=seeds)


@dataclass(frozen=True)
class Text:
    """A training run: a text over the first K letters, starting params, n_updates, eta and seq_length.

    Its length is windows * seq_length + 1 + extra: with extra = 0 the last window ends exactly on the
    last character, the boundary where the position must wrap to 0.
    """

    K: int
    m: int
    seq_length: int
    windows: int
    extra: int
    n_updates: int
    eta: float
    scale: float
    seed: int
    repeats: bool = False  # after one of each character, one character repeated (see clipped_run)
    v_scale: float = 1.0  # V multiplied by this (see Sequence.v_scale)

    @cached_property
    def _built(self):
        rng = np.random.default_rng(self.seed)
        length = self.windows * self.seq_length + 1 + self.extra
        ids = rng.integers(0, self.K, length)
        present = min(self.K, length)
        ids[:present] = rng.permutation(self.K)[:present]
        if self.repeats:
            ids[present:] = ids[present - 1]
        text = "".join(ALPHABET[i] for i in ids)
        K = len(set(text))
        params = random_params(rng, K, self.m, self.scale)
        params["V"] *= self.v_scale
        return text, params

    @property
    def text(self) -> str:
        return self._built[0]

    @property
    def params(self) -> dict[str, np.ndarray]:
        return copy_params(self._built[1])

    @property
    def args(self) -> tuple:
        return self.text, self.params, self.n_updates, self.eta, self.seq_length

    @property
    def dims(self) -> dict[str, int]:
        return {"K": len(set(self.text)), "m": self.m, "n_updates": self.n_updates}

    @property
    def wraps(self) -> list[int]:
        """The updates (1-based) after which the text position returns to 0."""
        return wraps(len(self.text), self.seq_length, self.n_updates)

    def summary(self) -> str:
        return (
            f"text of {len(self.text)} characters (K={self.dims['K']}), seq_length={self.seq_length}, m={self.m}, "
            f"n_updates={self.n_updates}, eta={self.eta:g}"
        )

    def describe(self) -> str:
        wraps = self.wraps
        return (
            f"{self.summary()}; text = {self.text!r}; every entry of the starting b, c, U, W, V is "
            f"{self.scale:g} * N(0, 1){f' (V then times {self.v_scale:g})' if self.v_scale != 1 else ''} "
            f"(numpy seed {self.seed}); the position wraps to 0 "
            + (f"after update(s) {wraps}" if wraps else "never in this run")
        )


@st.composite
def texts(draw, seq_length=(2, 6), windows=(1, 4), passes=(0.2, 3.0), scale=scales, K=(3, 5), m=(2, 5), v_scale=1.0):
    """Runs of about ``passes`` times the text, so that most of them wrap at least once."""
    s = draw(st.integers(*seq_length))
    w = draw(st.integers(*windows))
    low, high = max(1, int(passes[0] * w)), max(1, int(passes[1] * w) + 1)
    return Text(
        K=draw(st.integers(*K)), m=draw(st.integers(*m)), seq_length=s, windows=w,
        extra=draw(st.integers(0, s - 1)), n_updates=draw(st.integers(low, high)),
        eta=draw(st.sampled_from([0.1, 0.3])), scale=draw(scale), seed=draw(seeds), v_scale=v_scale,
    )


def clipped_run(n_updates: int = 3) -> Text:
    """A run whose every update's gradients exceed the clip bound 5, whatever its (salted) seed: after one of
    each of K = 3 characters the text repeats the last one, so at least 18 of a window's 20 targets are that
    character, and with parameters of scale 0.1 the model gives it probability near 1/3; dL/dc for it,
    sum_t p_t - (number of targets equal to it), is then about 20/3 - 18 < -5 at every update."""
    return Text(K=3, m=4, seq_length=20, windows=2, extra=0, n_updates=n_updates, eta=0.1, scale=0.1, seed=0,
                repeats=True)


@dataclass(frozen=True)
class Sampling:
    """synthesize's arguments: params, h0, x0, n and a seed for the rng."""

    params_seed: int
    K: int
    m: int
    x0: int
    n: int
    rng_seed: int
    scale: float = 1.0
    recurrent: bool = True  # False: W = 0, so p_t depends on x_{t-1} only (a Markov chain over characters)

    @cached_property
    def _arrays(self):
        rng = np.random.default_rng(self.params_seed)
        params = random_params(rng, self.K, self.m, self.scale)
        if not self.recurrent:
            params["W"][:] = 0.0
        return params, np.tanh(rng.standard_normal((self.m, 1)))

    @property
    def params(self):
        return copy_params(self._arrays[0])

    @property
    def h0(self):
        return self._arrays[1].copy()

    @property
    def dims(self) -> dict[str, int]:
        return {"K": self.K, "m": self.m, "n": self.n}

    def transitions(self) -> np.ndarray:
        """For a non-recurrent model, T[x, y] = p(next index y | input x)."""
        b, c, U, V = (self._arrays[0][k] for k in ("b", "c", "U", "V"))
        H = np.tanh(U + b)  # column x: the hidden state after input x (W = 0)
        return softmax_columns(V @ H + c).T

    def summary(self) -> str:
        return f"K={self.K}, m={self.m}, x0={self.x0}, n={self.n}"

    def describe(self) -> str:
        kind = "" if self.recurrent else ", W = 0"
        return (
            f"{self.summary()}; every entry of b, c, U, W, V is {self.scale:g} * N(0, 1){kind}, h0 = tanh(N(0, 1)) "
            f"(numpy seed {self.params_seed}); rng = numpy.random.default_rng({self.rng_seed})"
        )


def samplings(K=TYPICAL["K"], m=TYPICAL["m"], n=(1, 30), recurrent=True, scale=st.just(1.0)):
    @st.composite
    def build(draw):
        k = draw(st.integers(*K))
        return Sampling(
            params_seed=draw(seeds), K=k, m=draw(st.integers(*m)), x0=draw(st.integers(0, k - 1)),
            n=draw(st.integers(*n)), rng_seed=draw(seeds), scale=draw(scale), recurrent=recurrent,
        )

    return build()


@dataclass(frozen=True)
class Chain:
    """A near-deterministic model whose samples must walk a known cycle through all K characters.

    ``through`` = "input": W = 0 and input x switches on hidden unit cycle[x], which makes character
    cycle[x] next with probability 1 - 1e-20; only feeding each sample back as the next input walks the
    cycle. ``through`` = "hidden": U = 0 and W moves the active hidden unit one step along the cycle, so
    only a hidden state carried from step to step walks it; the inputs are ignored.
    """

    K: int
    through: str
    x0: int
    n: int
    seed: int

    GAIN = 20.0  # tanh(20) = 1 - 1e-17: hidden units saturate at -1 or +1
    SHARPNESS = 30.0  # logits +-30: every other character has probability below e^-60

    @cached_property
    def cycle(self) -> np.ndarray:
        """cycle[i] is the character (and hidden unit) after i: one K-cycle, so it never stays put."""
        order = np.random.default_rng(self.seed).permutation(self.K)
        nxt = np.empty(self.K, dtype=int)
        nxt[order] = np.roll(order, -1)
        return nxt

    @property
    def dims(self) -> dict[str, int]:
        return {"K": self.K, "m": self.K, "n": self.n}

    @property
    def params(self) -> dict[str, np.ndarray]:
        K = self.K
        step = np.eye(K)[:, self.cycle]  # column i is the indicator of cycle[i]
        zero = np.zeros((K, K))
        U, W = (self.GAIN * (2 * step - 1), zero) if self.through == "input" else (zero, self.GAIN * step)
        return {"b": np.zeros((K, 1)), "c": np.zeros((K, 1)), "U": U, "W": W, "V": self.SHARPNESS * np.eye(K)}

    @property
    def start(self) -> int:
        """The hidden unit active in h0 (the hidden chain starts from it; the input chain from x0)."""
        return (self.x0 + 1) % self.K

    @property
    def h0(self) -> np.ndarray:
        h = -0.9 * np.ones((self.K, 1))
        h[self.start] = 0.9
        return h

    def expected(self) -> list[int]:
        out, i = [], self.x0 if self.through == "input" else self.start
        for _ in range(self.n):
            i = int(self.cycle[i])
            out.append(i)
        return out

    def summary(self) -> str:
        return f"K=m={self.K}, x0={self.x0}, n={self.n}, chain through the {self.through}"

    def describe(self) -> str:
        how = ("the previous sample fed back as input" if self.through == "input"
               else "the hidden state carried over; inputs ignored")
        return (
            f"{self.summary()}; the model's next character is always the cycle {self.cycle.tolist()}[previous] "
            f"({how})"
            f"; h0 = {show(self.h0)}, U, W, V as described in the check"
        )


def chains(K=(3, 7), n=(2, 10)):
    @st.composite
    def build(draw):
        k = draw(st.integers(*K))
        return Chain(k, draw(st.sampled_from(["input", "hidden"])), draw(st.integers(0, k - 1)), draw(st.integers(*n)),
                     draw(seeds))

    return build()


@dataclass(frozen=True)
class Fixed:
    """A single configuration, described by ``text``; ``seed`` is for whatever it draws at random."""

    text: str
    seed: int = 0

    def summary(self) -> str:
        return self.text

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class Init:
    """init_params's arguments: K, m, sigma and a seed for the rng."""

    K: int
    m: int
    sigma: float
    seed: int

    @property
    def dims(self) -> dict[str, int]:
        return {"K": self.K, "m": self.m}

    def summary(self) -> str:
        return f"K={self.K}, m={self.m}, sigma={self.sigma:g}"

    def describe(self) -> str:
        return f"{self.summary()}, rng = numpy.random.default_rng({self.seed})"


def inits(K=(1, 8), m=(1, 8), sigma=st.sampled_from([0.01, 0.1, 1.0, 0.5])):
    return st.builds(Init, K=st.integers(*K), m=st.integers(*m), sigma=sigma, seed=seeds)
