"""Mistakes as data: every cause of a failure the grader can name has a stable id, and the course explains it.

An id is ``<function>.<mistake>`` (``compute_gradients.no_bptt``): the function that holds the mistake comes
first. ``CAUSES`` lists every id a check can name; a check names one by giving its hint as ``named(id, text)``
(the text stays what the student reads; the id rides along to the check's Outcome and CheckResult).

The explanations live in the spec folder's ``mistakes.yaml``, so a course edits them without code changes:

    compute_gradients.no_bptt:
      title: no backpropagation through time
      contract: dL/dh_t = V^T g_t + W^T dL/da_{t+1}
      instead: dL/dh_t = V^T g_t (the term from step t+1 is left out)
      find: look for the line computing dh in the backward loop ...

``load_explanations`` reads and validates them once, with the assignment: every id the grader can name for
one of the contract's functions needs an entry (a missing one is a SpecError naming the file and the id), and
an entry for an id the grader cannot name is refused as a misspelling.
"""

from __future__ import annotations

from pathlib import Path

from grader.results import Explanation
from grader.specfile import SpecFile

MISTAKES_FILE = "mistakes.yaml"
FIELDS = ("title", "contract", "instead", "find")

CAUSES: tuple[str, ...] = (
    "init_params.draw_order",
    "init_params.transposed_draws",
    "init_params.sigma_ignored",
    "init_params.sigma_squared",
    "init_params.wrong_scale",
    "init_params.not_from_rng",
    "init_params.uniform",
    "forward.loss_reduction",
    "forward.loss_of_input",
    "forward.softmax_axis",
    "forward.h0_unused",
    "forward.state_not_carried",
    "forward.bias_inside",
    "forward.float32",
    "forward.unstable_softmax",
    "compute_gradients.no_bptt",
    "compute_gradients.tanh_grad_h",
    "compute_gradients.tanh_grad_a",
    "compute_gradients.dw_uses_h_t",
    "compute_gradients.loss_reduction",
    "compute_gradients.clipped",
    "compute_gradients.transposed",
    "compute_gradients.float32",
    "compute_gradients.h_last_is_h0",
    "compute_gradients.h_last_early",
    "clip_gradients.norm_clipping",
    "clip_gradients.in_place",
    "clip_gradients.bound_ignored",
    "adagrad_step.eps_outside",
    "adagrad_step.eps_value",
    "adagrad_step.eps_value_outside",
    "adagrad_step.clips_inside",
    "adagrad_step.old_memory",
    "adagrad_step.no_sqrt",
    "adagrad_step.memory_replaced",
    "adagrad_step.memory_of_g",
    "adagrad_step.memory_of_abs_g",
    "adagrad_step.not_in_place",
    "adagrad_step.no_eps",
    "adam_step.no_bias_correction",
    "adam_step.step_count_off",
    "adam_step.eps_inside",
    "adam_step.no_sqrt",
    "adam_step.betas_swapped",
    "adam_step.first_not_decayed",
    "adam_step.second_of_g",
    "adam_step.not_in_place",
    "adam_step.no_eps",
    "synthesize.x0_included",
    "synthesize.global_rng",
    "synthesize.rng_ignored",
    "synthesize.argmax",
    "synthesize.input_not_fed_back",
    "synthesize.hidden_not_carried",
    "train.other_year_loss",
    "train.other_year_optimizer",
    "train.other_year",
    "train.loss_reduction",
    "train.not_clipped",
    "train.gradients_altered",
    "train.hprev_not_carried",
    "train.hprev_reset_early",
    "train.hprev_not_reset",
    "train.hprev_not_zero_at_start",
    "train.wrap_early",
    "train.wrap_late",
    "train.window_wrong",
    "train.targets_not_shifted",
    "train.smooth_start",
    "train.smooth_decay",
    "train.loss_after_update",
    "train.optimizer_eps",
    "train.eta_ignored",
    "train.memory_of_unclipped",
    "train.memory_float32",
    "train.stopped_early",
)


def function_of(cause: str) -> str:
    return cause.split(".", 1)[0]


class Named(str):
    """A hint that names a known mistake: the text the student reads, and the mistake's id as ``cause``."""

    cause: str

    def __new__(cls, cause: str, text: str) -> Named:  # noqa: PYI034 - always a Named, never a subclass
        if cause not in CAUSES:  # a programming error: tests/test_mistakes.py finds every id in CAUSES
            raise ValueError(f"{cause!r} is not in grader.mistakes.CAUSES")
        hint = super().__new__(cls, text)
        hint.cause = cause
        return hint

    def __reduce__(self):  # copies and pickles keep the id
        return (Named, (self.cause, str(self)))


def named(cause: str, text: str) -> str:
    """``text`` as a hint naming the mistake ``cause`` ("" stays "": nothing was found)."""
    return Named(cause, text) if text else text


def cause_of(*hints: object) -> str:
    """The id of the first hint that names a mistake, or ""."""
    return next((h.cause for h in hints if isinstance(h, Named)), "")


def joined(hints) -> str:
    """Hints joined into one, naming the first named mistake among them."""
    hints = [h for h in hints if h]
    text = " ".join(dict.fromkeys(hints))
    cause = cause_of(*hints)
    return Named(cause, text) if cause else text


def load_explanations(folder: Path, functions: tuple[str, ...]) -> dict[str, Explanation]:
    """mistakes.yaml of a spec folder, validated: one entry for every id the grader can name for ``functions``."""
    spec = SpecFile(folder / MISTAKES_FILE, "explanations of the mistakes the grader names (mistakes.yaml)")
    raw = spec.raw if spec.raw is not None else {}
    if not isinstance(raw, dict):
        spec.fail("top level", "expected a mapping from mistake id to its explanation")
    explanations = {}
    for cause, entry in raw.items():
        where = f"mistake {cause!r}"
        if cause not in CAUSES:
            spec.fail(where, "the grader names no such mistake (grader.mistakes.CAUSES lists those it can name)")
        entry = spec.mapping(entry, where, required=FIELDS)
        explanations[cause] = Explanation(**{f: " ".join(spec.text(entry[f], f"{where}, field {f!r}").split())
                                             for f in FIELDS})
    for cause in CAUSES:
        if function_of(cause) in functions and cause not in explanations:
            spec.fail(f"mistake {cause!r}", "missing: the grader can name this mistake, so it needs an explanation "
                      f"({', '.join(FIELDS)})")
    return explanations
