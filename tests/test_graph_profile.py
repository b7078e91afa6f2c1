"""The recorded graph (and its drawing) and the per-primitive profile."""

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw.graph import graph
from tinygrad_hw.profiler import profile

rng = np.random.default_rng(0)
PARAMS = {"W": rng.standard_normal((4, 3)), "b": np.zeros(3)}
X, Y = rng.standard_normal((5, 4)), np.array([0, 1, 2, 0, 1])


def loss(p):
    return tg.softmax_cross_entropy(tg.tanh(X @ p["W"] + p["b"]), Y)


def test_graph_lists_inputs_then_primitives_with_shapes_and_cotangent_norms():
    g = graph(loss, PARAMS)
    assert [n.op for n in g.nodes] == ["input", "input", "matmul", "add", "tanh", "softmax_cross_entropy"]
    assert [n.label for n in g.nodes[:2]] == ["[0]['W']", "[0]['b']"]
    assert g.nodes[2].shape == (5, 3) and g.nodes[2].inputs == [0] and g.nodes[3].inputs == [2, 1]
    assert g.nodes[-1].cotangent_norm == 1.0
    grads = tg.grad(loss)(PARAMS)
    assert g.nodes[0].cotangent_norm == pytest.approx(np.linalg.norm(grads["W"]))
    assert graph(loss, PARAMS, backward_pass=False).nodes[0].cotangent_norm is None
    assert "n2 -> n3" in g.to_dot() and "n1 -> n3" in g.to_dot()


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_graph_draws_to_a_file(tmp_path, suffix):
    path = graph(loss, PARAMS).draw(tmp_path / f"tape.{suffix}")
    data = open(path, "rb").read()
    assert data.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in data[:2000]
    with pytest.raises(ValueError, match=".svg or .png"):
        graph(loss, PARAMS).draw(tmp_path / "tape.pdf")


def test_profile_counts_every_primitive_call_and_accounts_for_the_step():
    report = profile(loss, PARAMS, repeat=3)
    calls = {p.name: (p.forward_calls, p.backward_calls) for p in report.primitives}
    assert calls["tanh"] == (1, 1) and calls["matmul"] == (1, 1) and calls["softmax_cross_entropy"] == (1, 1)
    assert calls["add"][0] == 1 and calls["add"][1] == 2  # one VJP per differentiable input
    assert report.step_seconds > 0 and all(p.seconds >= 0 for p in report.primitives)
    # the shares are of the instrumented runs the times come from; the timers' own cost, a few
    # hundred nanoseconds per timed call, is not counted as the engine's
    assert report.other_seconds > 0 and 0 < report.timer_seconds < report.profiled_seconds
    assert report.timer_seconds / sum(p.forward_calls + p.backward_calls for p in report.primitives) < 1e-5
    table = report.table()
    assert "softmax_cross_entropy" in table and "engine and Python" in table and "100%" in table
    assert tg.REGISTRY["tanh"].forward.__name__ == "tanh"  # the timers are removed afterwards
    assert tg.softmax_cross_entropy.forward_saving.__name__ == "_softmax_cross_entropy_saving"


def test_profile_books_each_primitive_only_its_own_calls():
    # affine's product is affine's (it once showed as a call of matmul, which the model never made)
    x, labels = np.ones((4, 3)), np.array([0, 1, 1, 0])
    params = {"W": np.full((3, 2), 0.1), "b": np.zeros(2)}
    report = profile(lambda p: tg.softmax_cross_entropy(tg.affine(x, p["W"], p["b"]), labels), params)
    calls = {p.name: (p.forward_calls, p.backward_calls) for p in report.primitives}
    assert calls == {"affine": (1, 2), "softmax_cross_entropy": (1, 1)}
