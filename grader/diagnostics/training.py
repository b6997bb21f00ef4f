"""The report's training run: the submission's own train and synthesize, beside the reference.

``train`` returns only the final params and the smooth losses, so to see text at intervals the run is
split into chunks, each a train call continuing from the params the previous one returned. Every call
restarts the text position, hprev and the optimizer state, so the reference curve is computed with
exactly the same chunks; the two curves then differ only where the code differs.

Each call also restarts its smooth loss at its first loss: one noisy window that would then dominate the
next few hundred updates of both curves. The curves stored are therefore the smoothing carried on across
calls, which is exact without knowing the per-update losses: within a call the smoothing is linear, so
continuing from the previous call's last value S instead of restarting at s_0 adds decay^(t+1) (S - s_0)
to the call's own smooth loss s_t.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from grader.contract import Contract, ContractViolation, conform, wraps
from grader.diagnostics.spec import TrainingSpec
from grader.results import Sample, TrainingRun
from grader.sandbox import Call, CallFailed, Reply, RngSeed, Sandbox


def chunk_sizes(n_updates: int, chunks: int) -> list[int]:
    """n_updates split into `chunks` nearly equal parts, larger ones first."""
    base, extra = divmod(n_updates, chunks)
    return [base + (i < extra) for i in range(chunks)]


def wrap_updates(text_len: int, seq_length: int, sizes: list[int]) -> tuple[int, ...]:
    """Updates (1-based, counted over the whole run) after which the contract's loop resets e to 0.

    Each chunk starts at e = 0, as every train call does; a reset on a chunk's last update coincides with
    the next call's restart, so it is not a wrap of its own.
    """
    starts = np.cumsum([0, *sizes[:-1]])
    return tuple(int(start) + update for start, size in zip(starts, sizes)
                 for update in wraps(text_len, seq_length, size) if update < size)


def carry_smoothing(previous: float | None, losses, decay: float) -> list[float]:
    """One call's smooth losses as if the smoothing had continued from `previous` (None: the run's start)."""
    losses = np.asarray(losses, dtype=np.float64)
    if previous is None:
        return losses.tolist()
    offset = (previous - losses[0]) * decay ** np.arange(1, len(losses) + 1)
    return (losses + offset).tolist()


def training_run(box: Sandbox, contract: Contract, oracle, spec: TrainingSpec, text_name: str, text: str) -> TrainingRun:
    decay = contract.conventions.smooth_decay
    text = text[: spec.text_chars]
    vocab = sorted(set(text))
    K = len(vocab)
    sizes = chunk_sizes(spec.n_updates, spec.chunks)
    start = oracle.reference.init_params(K, spec.m, spec.sigma, np.random.default_rng(spec.seed))
    run: dict[str, Any] = dict(
        text_name=text_name,
        text_chars=len(text),
        n_updates=spec.n_updates,
        m=spec.m,
        seq_length=spec.seq_length,
        eta=spec.eta,
        optimizer=contract.conventions.optimizer.title,
        restart_updates=tuple(int(v) for v in np.cumsum(sizes)[:-1]),
        reference_smooth_loss=tuple(_reference_curve(oracle, text, start, sizes, spec, decay)),
        wrap_updates=wrap_updates(len(text), spec.seq_length, sizes),
    )
    curve: list[float] = []
    samples: list[Sample] = []
    failures: list[str] = []
    params = copy.deepcopy(start)
    x0 = vocab.index(text[0])
    can_sample = True
    sample: tuple[int, Call] | None = None  # the last chunk's sample, sent with the next train call
    for chunk, size in enumerate(sizes, start=1):
        first, last = len(curve) + 1, len(curve) + size
        # A train call does not wait on the sample before it (a failed sample only ends the samples), so both go
        # in one exchange, in the loop's order: the same calls, one round trip fewer (Sandbox.call_many).
        results = box.call_many([*(sample[1:] if sample else ()), Call(
            "train", (text, params, size, spec.eta, spec.seq_length),
            describe=f"report training run: train, updates {first}-{last} of {spec.n_updates}")])
        if sample is not None:
            can_sample = _sampled(contract, sample, results[0], vocab, samples, failures)
        try:
            if isinstance(results[-1], CallFailed):
                raise results[-1]
            params, losses = conform(contract, "train", results[-1].value, {"K": K, "m": spec.m, "n_updates": size})
        except (CallFailed, ContractViolation) as exc:
            failures.append(f"train failed on updates {first}-{last} (call {chunk} of {spec.chunks}): {exc}")
            sample = None
            break
        curve.extend(carry_smoothing(curve[-1] if curve else None, losses, decay))
        sample = (last, _synthesize_call(params, x0, spec.sample_chars, spec.seed + chunk)) if can_sample else None
    if sample is not None:
        can_sample = _sampled(contract, sample, box.call_many([sample[1]])[0], vocab, samples, failures)
    passage = ""
    if can_sample and len(curve) == spec.n_updates:
        try:
            passage = synthesize_text(box, contract, params, x0, spec.passage_chars, spec.seed, vocab)
        except (CallFailed, ContractViolation) as exc:
            failures.append(f"synthesize failed on the final passage: {exc}")
    return TrainingRun(
        **run,
        submission_smooth_loss=tuple(curve),
        samples=tuple(samples),
        passage=passage,
        failure=" ".join(failures),
    )


def _reference_curve(oracle, text: str, start: dict, sizes: list[int], spec: TrainingSpec, decay: float) -> list[float]:
    params = copy.deepcopy(start)
    curve: list[float] = []
    for size in sizes:
        params, losses = oracle.reference.train(text, params, size, spec.eta, spec.seq_length)
        curve.extend(carry_smoothing(curve[-1] if curve else None, losses, decay))
    return curve


def synthesize_text(box: Sandbox, contract: Contract, params: dict, x0: int, n: int, seed: int, vocab: list[str]) -> str:
    call = _synthesize_call(params, x0, n, seed)
    return _text(contract, call, box.call(call.function, *call.args, describe=call.describe), vocab)


def _synthesize_call(params: dict, x0: int, n: int, seed: int) -> Call:
    return Call("synthesize", (params, np.zeros((params["W"].shape[0], 1)), x0, n, RngSeed(seed)),
                describe=f"report training run: synthesize {n} characters")


def _text(contract: Contract, call: Call, reply: Reply, vocab: list[str]) -> str:
    """The sample ``call`` asked for, as text; ContractViolation when its indices break the contract."""
    params, _, _, n, _ = call.args
    (indices,) = conform(contract, "synthesize", reply.value, {"K": len(vocab), "m": params["W"].shape[0], "n": n})
    return "".join(vocab[i] for i in indices)


def _sampled(contract: Contract, sample: tuple[int, Call], result: Reply | CallFailed, vocab: list[str],
             samples: list[Sample], failures: list[str]) -> bool:
    """Add the sample (update, call) made with ``result`` to ``samples``, or say why there is none in
    ``failures``; whether sampling goes on."""
    update, call = sample
    try:
        if isinstance(result, CallFailed):
            raise result
        samples.append(Sample(update, _text(contract, call, result, vocab)))
    except (CallFailed, ContractViolation) as exc:
        failures.append(f"synthesize failed after update {update}, so there are no further samples: {exc}")
        return False
    return True
