"""The reference's kept answers (grader.answers): read back exactly, recomputed whenever an entry is not
beyond doubt, never kept when a value alone would not replay the call."""

import io
import json
import os
import threading

import numpy as np
import pytest
from shipped_course import shipped

from grader.answers import FOLDER, Answers, context
from grader.oracle import LiveOracle

ASSIGNMENT = shipped()


class Counted:
    """A stand-in computation that counts its calls."""

    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def store(tmp_path, min_seconds=0.0, ctx="c0ffee"):
    answers = Answers.open(tmp_path, ctx, min_seconds=min_seconds)
    assert answers is not None
    return answers


def entries(tmp_path):
    return sorted((tmp_path / FOLDER).glob("*/*.npz"))


def answer_like_the_reference():
    rng = np.random.default_rng(1)
    fortran = np.asfortranarray(rng.standard_normal((3, 4)))
    return ({"W": rng.standard_normal((4, 4)), "P": fortran}, np.float64(2.5), [1, 2.0, "x", None, True], ())


def test_an_answer_is_computed_once_and_read_back_with_its_exact_types(tmp_path):
    value = answer_like_the_reference()
    compute = Counted(value)
    args = ("text", {"W": np.ones((2, 2))}, 3)
    assert store(tmp_path).answer("reference.train", args, {"eta": 0.1}, compute) is value
    again = store(tmp_path).answer("reference.train", args, {"eta": 0.1}, compute)  # another grading's store
    assert compute.calls == 1
    params, loss, items, empty = again
    assert type(loss) is np.float64 and loss == value[1]
    assert items == value[2] and [type(v) for v in items] == [type(v) for v in value[2]] and empty == ()
    assert params["P"].flags.f_contiguous and not params["P"].flags.c_contiguous
    for k in value[0]:
        assert params[k].dtype == value[0][k].dtype and params[k].tobytes() == value[0][k].tobytes()


@pytest.mark.parametrize("other", [
    (("text", {"W": np.nextafter(np.ones((2, 2)), 2)}, 3), {"eta": 0.1}),  # one ulp
    (("text", {"W": np.ones((2, 2))}, 3.0), {"eta": 0.1}),  # 3.0 is not 3
    (("text", [np.ones((2, 2))], 3), {"eta": 0.1}),  # a list is not a dict
    (("text", {"W": np.ones((2, 2), dtype=np.float32)}, 3), {"eta": 0.1}),
    (("text", {"W": np.ones((2, 2))}, 3), {"eta": 0.2}),
    (("text", {"W": np.ones((2, 2))}, 3), {"eta": 0.1, "seq_length": 5}),
])
def test_any_difference_in_the_arguments_is_another_answer(tmp_path, other):
    compute = Counted(1.5)
    store(tmp_path).answer("reference.train", ("text", {"W": np.ones((2, 2))}, 3), {"eta": 0.1}, compute)
    store(tmp_path).answer("reference.train", *other, compute)
    assert compute.calls == 2


def test_the_function_and_the_context_are_part_of_the_key(tmp_path):
    compute = Counted(1.5)
    for name, ctx in (("reference.train", "a"), ("variants.train", "a"), ("reference.train", "b")):
        store(tmp_path, ctx=ctx).answer(name, (1,), {}, compute)
    assert compute.calls == 3


def test_a_generator_argument_is_keyed_by_its_state(tmp_path):
    compute = Counted(1.5)
    for seed in (1, 1, 2):
        store(tmp_path).answer("reference.init_params", (np.random.default_rng(seed),), {}, compute)
    assert compute.calls == 2


def test_cheap_answers_are_computed_again(tmp_path):
    compute = Counted(1.5)
    for _ in range(2):
        store(tmp_path, min_seconds=3600.0).answer("reference.forward", (1,), {}, compute)
    assert compute.calls == 2 and entries(tmp_path) == []


def test_an_answer_that_changed_its_arguments_is_not_kept(tmp_path):
    memory = {"W": np.zeros(2)}

    def step():
        memory["W"] += 1.0

    for _ in range(2):
        store(tmp_path).answer("reference.adagrad_step", (memory,), {}, step)
    assert memory["W"].tolist() == [2.0, 2.0] and entries(tmp_path) == []


def test_an_answer_sharing_memory_with_its_arguments_is_not_kept(tmp_path):
    params = {"W": np.arange(4.0)}
    answers = store(tmp_path)
    for value in (params, params["W"][1:], (1, [params["W"]])):
        assert answers.answer("reference.f", (params,), {}, lambda v=value: v) is value
    assert entries(tmp_path) == []


def test_arguments_or_answers_that_are_not_plain_data_are_computed_every_time(tmp_path):
    class Thing:
        pass

    compute = Counted(1.5)
    for _ in range(2):
        store(tmp_path).answer("reference.f", (Thing(),), {}, compute)
    objects = Counted(np.array([Thing()], dtype=object))
    for _ in range(2):
        store(tmp_path).answer("reference.g", (1,), {}, objects)
    assert compute.calls == 2 and objects.calls == 2 and entries(tmp_path) == []


VALUE = np.arange(6.0).reshape(2, 3) + 0.125


def corrupt_by_truncating(path):
    path.write_bytes(path.read_bytes()[:100])


def corrupt_by_flipping_a_bit_of_the_value(path):
    data = bytearray(path.read_bytes())
    data[data.find(VALUE.tobytes()) + 3] ^= 0x01
    path.write_bytes(bytes(data))


def corrupt_by_moving_another_entry_here(path):
    other = Answers.open(path.parents[2] / "other", "c0ffee", min_seconds=0.0)
    other.answer("reference.f", (2,), {}, lambda: np.full(3, 9.0))
    path.write_bytes(next((path.parents[2] / "other" / FOLDER).glob("*/*.npz")).read_bytes())


def corrupt_by_a_pickle(path):
    with np.load(path, allow_pickle=False) as members:
        entry = members["entry"]
    buffer = io.BytesIO()
    np.savez(buffer, entry=entry, a0=np.array([{"pickled": 1}], dtype=object))
    path.write_bytes(buffer.getvalue())


def corrupt_by_opening_it_to_others(path):
    path.chmod(0o644)


@pytest.mark.parametrize("corrupt", [corrupt_by_truncating, corrupt_by_flipping_a_bit_of_the_value,
                                     corrupt_by_moving_another_entry_here, corrupt_by_a_pickle,
                                     corrupt_by_opening_it_to_others])
def test_an_entry_not_beyond_doubt_is_computed_again_and_rewritten(tmp_path, corrupt):
    compute = Counted(VALUE)
    store(tmp_path).answer("reference.f", (1,), {}, compute)
    (path,) = entries(tmp_path)
    corrupt(path)
    assert store(tmp_path).answer("reference.f", (1,), {}, compute) is VALUE
    assert compute.calls == 2
    assert store(tmp_path).answer("reference.f", (1,), {}, compute).tolist() == VALUE.tolist()  # rewritten
    assert compute.calls == 2


def test_a_cache_folder_open_to_other_users_is_not_used(tmp_path):
    (tmp_path / FOLDER).mkdir(mode=0o755)
    (tmp_path / FOLDER).chmod(0o755)
    assert Answers.open(tmp_path, "c0ffee") is None
    (tmp_path / FOLDER).chmod(0o700)
    (tmp_path / FOLDER / "c0ffee").symlink_to(tmp_path)
    assert Answers.open(tmp_path, "c0ffee") is None


def test_the_store_is_used_below_a_cache_folder_others_may_enter(tmp_path):
    """~/.cache/rnn-grader as other tools leave it (0755, the sandboxes' folder made there with the default mode):
    only the store's own folders must be private."""
    cache = tmp_path / "rnn-grader"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    compute = Counted(VALUE)
    for _ in range(2):
        assert store(cache).answer("reference.f", (1,), {}, compute).tolist() == VALUE.tolist()
    assert compute.calls == 1


def test_the_store_is_made_private_to_its_user(tmp_path):
    store(tmp_path).answer("reference.f", (1,), {}, lambda: 2.0)
    for path in (tmp_path / FOLDER, *(tmp_path / FOLDER).iterdir(), *entries(tmp_path)):
        assert path.stat().st_mode & 0o077 == 0 and path.stat().st_uid == os.geteuid()


def test_the_context_changes_with_the_conventions_and_the_code(monkeypatch):
    import reference.rnn as rnn

    options = ASSIGNMENT.conventions.reference_options()
    base = context(options, (rnn,))
    assert context({**options, "eps": 1e-6}, (rnn,)) != base
    assert context(options, (json,)) != base  # other code


def test_the_oracle_reads_back_the_references_answers_bit_for_bit(tmp_path):
    K, m = 5, 4
    text = "abcde" * 30
    start = LiveOracle(ASSIGNMENT).reference.init_params(K, m, 0.1, np.random.default_rng(3))
    live = LiveOracle(ASSIGNMENT).reference.train(text, start, 40, 0.1, 5)
    cold, warm = (LiveOracle(ASSIGNMENT, tmp_path) for _ in range(2))
    cold.answers.min_seconds = warm.answers.min_seconds = 0.0
    for oracle in (cold, warm):
        with oracle.scope("diagnostics: training run"):
            params, losses = oracle.reference.train(text, start, 40, 0.1, 5)
        assert losses.tobytes() == live[1].tobytes()
        assert {k: v.tobytes() for k, v in params.items()} == {k: v.tobytes() for k, v in live[0].items()}
    assert len(entries(tmp_path)) == 1


def test_calls_made_aside_or_after_the_search_are_not_kept(tmp_path):
    """They carry one submission's own outputs (a diagnosis, a hint): no other grading asks them."""
    oracle = LiveOracle(ASSIGNMENT, tmp_path)
    oracle.answers.min_seconds = 0.0
    start = oracle.reference.init_params(5, 4, 0.1, np.random.default_rng(3))
    with oracle.scope("a check|its case"), oracle.aside():
        oracle.reference.train("abcde" * 30, start, 40, 0.1, 5)
    oracle.reference.train("abcde" * 30, start, 41, 0.1, 5)
    assert entries(tmp_path) == []
    with oracle.scope("a check|its case"):
        oracle.reference.train("abcde" * 30, start, 40, 0.1, 5)
    assert len(entries(tmp_path)) == 1


def test_gradings_computing_one_answer_at_once_both_write_it_whole(tmp_path):
    both_computing = threading.Barrier(2, timeout=60)
    got = []

    def compute():
        both_computing.wait()  # neither has written before the other has computed
        return np.arange(1000.0)

    def grading():
        got.append(store(tmp_path).answer("reference.train", ("text",), {}, compute))

    threads = [threading.Thread(target=grading) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 2 and all(v.tolist() == list(range(1000)) for v in got)
    (path,) = entries(tmp_path)  # one entry, no temporary file left beside it
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert store(tmp_path).answer("reference.train", ("text",), {}, lambda: None).tolist() == list(range(1000))
