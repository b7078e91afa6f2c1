"""numpy's semantics exactly: every operation against numpy's own result, and differentiable.

Each case gives an engine function, the numpy (or scipy) function it follows, and inputs. The
engine's result must equal numpy's (values, shape and dtype, in float64 and float32), and its
derivatives must pass `check_grads` in both modes to second order. Compositions are checked here;
the registered primitives are also checked one by one in test_registry.py.
"""

import numpy as np
import pytest
import scipy.special

import tinygrad_hw as tg

rng = np.random.default_rng(0)


def R(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def P(*shape):  # positive
    return R(*shape, low=0.5, high=2.0)


def U(*shape):  # inside (-1, 1)
    return R(*shape, low=-0.9, high=0.9)


def D(*shape):  # distinct, for extrema and sorting
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * 0.37 - n * 0.2).reshape(shape)


UNARY = {  # name: input
    "abs": R(3, 4) + 0.05 * np.sign(R(3, 4)), "sqrt": P(3, 4), "cbrt": P(5), "square": R(2, 3),
    "reciprocal": P(4), "log1p": P(3, 2), "expm1": R(3), "log2": P(4), "log10": P(4), "exp2": R(4),
    "sin": R(3, 3), "cos": R(3, 3), "tan": U(4), "arcsin": U(5), "arccos": U(5), "arctan": R(5),
    "sinh": R(4), "cosh": R(4), "tanh": R(4), "arcsinh": R(4), "arccosh": P(4) + 1.2, "arctanh": U(4),
    "deg2rad": R(3), "rad2deg": R(3), "exp": R(2, 2), "log": P(2, 2), "negative": R(3),
    "sign": R(4) + 0.05, "floor": R(4) + 0.05, "ceil": R(4) + 0.05, "rint": np.array([0.2, 1.7, -2.2]),
    "trunc": R(4) + 0.05, "round": np.array([0.2, 1.7, -2.2]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
def test_elementwise_functions_match_numpy_and_differentiate(name):
    x = UNARY[name]
    engine, reference = getattr(tg, name), getattr(np, name)
    np.testing.assert_allclose(engine(x), reference(x), rtol=1e-14)
    assert engine(x.astype(np.float32)).dtype == reference(x.astype(np.float32)).dtype
    tg.check_grads(engine, x, order=2)


BINARY = {  # name: (a, b), with broadcasting
    "add": (R(3, 1), R(4)), "subtract": (R(3, 4), R(1, 4)), "multiply": (R(2, 3), R(3)),
    "divide": (R(3), P(2, 3)), "true_divide": (R(3), P(3)), "power": (P(3, 1), R(1, 2)),
    "maximum": (R(3, 4), R(4)), "minimum": (R(2, 1), R(1, 3)), "fmax": (R(3), R(3)),
    "arctan2": (R(3, 2) + 0.1, P(2)), "hypot": (P(3), R(2, 3) + 2.5),
    "logaddexp": (R(2, 3), R(3)), "logaddexp2": (R(3), R(2, 1)),
    "mod": (np.array([2.4, -1.3, 3.6]), np.array([[1.02], [-0.98]])),
    "remainder": (np.array([2.4, -1.3]), np.array(1.01)),
    "floor_divide": (np.array([2.4, -1.3, 3.6]), np.array([1.02, 0.99, -1.01])),
    "fmod": (np.array([2.4, -1.3, 3.6]), np.array([[1.02], [-0.98]])),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_functions_broadcast_like_numpy_and_differentiate(name):
    a, b = BINARY[name]
    engine, reference = getattr(tg, name), getattr(np, name)
    np.testing.assert_allclose(engine(a, b), reference(a, b), rtol=1e-14)
    assert engine(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32
    tg.check_grads(engine, a, b, order=2)


X34, X234 = R(3, 4), R(2, 3, 4)

COMPOSED = [  # (id, engine call, numpy call, inputs)
    (
        "sum axis tuple keepdims",
        lambda x: tg.sum(x, axis=(0, 2), keepdims=True),
        lambda x: np.sum(x, axis=(0, 2), keepdims=True),
        [X234],
    ),
    ("mean", lambda x: tg.mean(x, axis=-1), lambda x: np.mean(x, axis=-1), [X234]),
    ("mean all", tg.mean, np.mean, [X34]),
    ("var ddof", lambda x: tg.var(x, axis=0, ddof=1), lambda x: np.var(x, axis=0, ddof=1), [X34]),
    (
        "var keepdims",
        lambda x: tg.var(x, axis=1, keepdims=True),
        lambda x: np.var(x, axis=1, keepdims=True),
        [X34],
    ),
    ("std", lambda x: tg.std(x, axis=(0, 1)), lambda x: np.std(x, axis=(0, 1)), [X234]),
    (
        "std ddof keepdims",
        lambda x: tg.std(x, ddof=1, keepdims=True),
        lambda x: np.std(x, ddof=1, keepdims=True),
        [X34],
    ),
    (
        "average weights",
        lambda x, w: tg.average(x, axis=1, weights=w),
        lambda x, w: np.average(x, axis=1, weights=w),
        [X34, P(4)],
    ),
    ("max", lambda x: tg.max(x, axis=1), lambda x: np.max(x, axis=1), [D(3, 4)]),
    (
        "amin keepdims",
        lambda x: tg.amin(x, axis=0, keepdims=True),
        lambda x: np.amin(x, axis=0, keepdims=True),
        [D(3, 4)],
    ),
    ("prod", lambda x: tg.prod(x, axis=1), lambda x: np.prod(x, axis=1), [R(3, 4)]),
    ("prod all", tg.prod, np.prod, [R(2, 3)]),
    ("logsumexp", lambda x: tg.logsumexp(x, axis=1), lambda x: scipy.special.logsumexp(x, axis=1), [X34]),
    (
        "logsumexp all keepdims",
        lambda x: tg.logsumexp(x, keepdims=True),
        lambda x: scipy.special.logsumexp(x, keepdims=True),
        [X234],
    ),
    ("cumsum axis", lambda x: tg.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), [X234]),
    ("cumsum flat", tg.cumsum, np.cumsum, [X34]),
    ("norm", tg.norm, np.linalg.norm, [X34]),
    ("norm vector ord 1", lambda x: tg.norm(x, 1), lambda x: np.linalg.norm(x, 1), [R(5) + 0.05]),
    ("norm ord 3 axis", lambda x: tg.norm(x, 3, axis=1), lambda x: np.linalg.norm(x, 3, axis=1), [X34]),
    ("norm inf", lambda x: tg.norm(x, np.inf), lambda x: np.linalg.norm(x, np.inf), [D(5)]),
    (
        "norm fro keepdims",
        lambda x: tg.norm(x, "fro", axis=(1, 2), keepdims=True),
        lambda x: np.linalg.norm(x, "fro", axis=(1, 2), keepdims=True),
        [X234],
    ),
    ("norm matrix 1", lambda x: tg.norm(x, 1), lambda x: np.linalg.norm(x, 1), [D(3, 4)]),
    ("norm matrix -inf", lambda x: tg.norm(x, -np.inf), lambda x: np.linalg.norm(x, -np.inf), [D(3, 4)]),
    ("expand_dims", lambda x: tg.expand_dims(x, (0, 3)), lambda x: np.expand_dims(x, (0, 3)), [X34]),
    ("squeeze", lambda x: tg.squeeze(x, 1), lambda x: np.squeeze(x, 1), [R(3, 1, 2)]),
    ("squeeze all", tg.squeeze, np.squeeze, [R(1, 3, 1)]),
    ("ravel", tg.ravel, np.ravel, [X234]),
    ("moveaxis", lambda x: tg.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), [X234]),
    (
        "moveaxis many",
        lambda x: tg.moveaxis(x, [0, 1], [2, 0]),
        lambda x: np.moveaxis(x, [0, 1], [2, 0]),
        [X234],
    ),
    ("swapaxes", lambda x: tg.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2), [X234]),
    ("transpose axes", lambda x: tg.transpose(x, (1, 2, 0)), lambda x: np.transpose(x, (1, 2, 0)), [X234]),
    ("tile", lambda x: tg.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), [X34]),
    ("tile short reps", lambda x: tg.tile(x, 2), lambda x: np.tile(x, 2), [X34]),
    ("repeat", lambda x: tg.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1), [X34]),
    (
        "repeat counts",
        lambda x: tg.repeat(x, [1, 0, 2], axis=0),
        lambda x: np.repeat(x, [1, 0, 2], axis=0),
        [X34],
    ),
    ("repeat flat", lambda x: tg.repeat(x, 3), lambda x: np.repeat(x, 3), [X34]),
    ("flip", lambda x: tg.flip(x, 1), lambda x: np.flip(x, 1), [X234]),
    ("flip all", tg.flip, np.flip, [X34]),
    ("fliplr flipud", lambda x: tg.fliplr(tg.flipud(x)), lambda x: np.fliplr(np.flipud(x)), [X34]),
    ("roll", lambda x: tg.roll(x, 2, axis=1), lambda x: np.roll(x, 2, axis=1), [X34]),
    ("roll flat", lambda x: tg.roll(x, -5), lambda x: np.roll(x, -5), [X34]),
    (
        "roll many",
        lambda x: tg.roll(x, (1, -1), axis=(0, 2)),
        lambda x: np.roll(x, (1, -1), axis=(0, 2)),
        [X234],
    ),
    (
        "pad constant",
        lambda x: tg.pad(x, ((1, 2), (0, 1)), constant_values=3.0),
        lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=3.0),
        [X34],
    ),
    ("pad int", lambda x: tg.pad(x, 1), lambda x: np.pad(x, 1), [X34]),
    (
        "pad reflect",
        lambda x: tg.pad(x, ((2, 1), (1, 2)), mode="reflect"),
        lambda x: np.pad(x, ((2, 1), (1, 2)), mode="reflect"),
        [X34],
    ),
    ("pad edge", lambda x: tg.pad(x, 2, mode="edge"), lambda x: np.pad(x, 2, mode="edge"), [R(3)]),
    ("pad wrap", lambda x: tg.pad(x, (1, 3), mode="wrap"), lambda x: np.pad(x, (1, 3), mode="wrap"), [X34]),
    (
        "pad symmetric",
        lambda x: tg.pad(x, 2, mode="symmetric"),
        lambda x: np.pad(x, 2, mode="symmetric"),
        [X34],
    ),
    ("tril", tg.tril, np.tril, [X34]),
    ("triu k", lambda x: tg.triu(x, 1), lambda x: np.triu(x, 1), [X234]),
    ("tril k", lambda x: tg.tril(x, -1), lambda x: np.tril(x, -1), [R(4, 4)]),
    ("diag of matrix", lambda x: tg.diag(x, 1), lambda x: np.diag(x, 1), [X34]),
    ("diag of vector", lambda x: tg.diag(x, -2), lambda x: np.diag(x, -2), [R(3)]),
    ("diagonal", lambda x: tg.diagonal(x, 1, 0, 2), lambda x: np.diagonal(x, 1, 0, 2), [X234]),
    ("trace", tg.trace, np.trace, [X34]),
    ("trace offset axes", lambda x: tg.trace(x, -1, 1, 2), lambda x: np.trace(x, -1, 1, 2), [X234]),
    ("outer", tg.outer, np.outer, [R(3), R(2, 2)]),
    ("dot vectors", tg.dot, np.dot, [R(3), R(3)]),
    ("dot scalar", tg.dot, np.dot, [np.array(1.5), X34]),
    ("dot matrix vector", tg.dot, np.dot, [X34, R(4)]),
    ("dot n-d", tg.dot, np.dot, [X234, R(2, 4, 3)]),
    ("dot n-d by vector", tg.dot, np.dot, [X234, R(4)]),
    ("inner", tg.inner, np.inner, [X234, R(5, 4)]),
    ("vdot", tg.vdot, np.vdot, [X34, R(4, 3)]),
    ("tensordot 2", tg.tensordot, np.tensordot, [X234, R(3, 4, 2)]),
    (
        "tensordot axes lists",
        lambda a, b: tg.tensordot(a, b, axes=([0, 2], [1, 0])),
        lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])),
        [X234, R(4, 2, 5)],
    ),
    ("tensordot 0", lambda a, b: tg.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), [R(2), R(3)]),
    ("stack", lambda a, b: tg.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1), [X34, R(3, 4)]),
    (
        "stack last",
        lambda a, b: tg.stack([a, b], axis=-1),
        lambda a, b: np.stack([a, b], axis=-1),
        [X34, R(3, 4)],
    ),
    ("hstack", lambda a, b: tg.hstack([a, b]), lambda a, b: np.hstack([a, b]), [X34, R(3, 2)]),
    ("hstack 1-d", lambda a, b: tg.hstack([a, b]), lambda a, b: np.hstack([a, b]), [R(3), R(2)]),
    ("vstack", lambda a, b: tg.vstack([a, b]), lambda a, b: np.vstack([a, b]), [R(4), X34]),
    (
        "concatenate none",
        lambda a, b: tg.concatenate([a, b], axis=None),
        lambda a, b: np.concatenate([a, b], axis=None),
        [X34, R(2)],
    ),
    (
        "concatenate empty piece",
        lambda a, b: tg.concatenate([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], axis=1),
        [X34, R(3, 0)],
    ),
    ("sort", lambda x: tg.sort(x, axis=0), lambda x: np.sort(x, axis=0), [D(3, 4)]),
    ("sort flat", lambda x: tg.sort(x, axis=None), lambda x: np.sort(x, axis=None), [D(3, 4)]),
    (
        "atleast",
        lambda x: tg.atleast_3d(tg.atleast_2d(tg.atleast_1d(x))),
        lambda x: np.atleast_3d(np.atleast_2d(np.atleast_1d(x))),
        [np.array(1.3)],
    ),
    ("atleast_3d of 2-d", tg.atleast_3d, np.atleast_3d, [X34]),
    ("where", lambda a, b: tg.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b), [X34, R(4)]),
    (
        "clip",
        lambda x: tg.clip(x, -0.5, 0.7),
        lambda x: np.clip(x, -0.5, 0.7),
        [np.array([-1.0, 0.1, 1.2, 0.5])],
    ),
    (
        "clip upper only",
        lambda x: tg.clip(x, None, 0.3),
        lambda x: np.clip(x, None, 0.3),
        [np.array([-1.0, 0.1, 1.2])],
    ),
    ("clip array bounds", tg.clip, np.clip, [np.array([[-1.0, 0.1, 1.2]]), np.array([[-0.5], [0.2]]), P(3)]),
    (
        "broadcast_to",
        lambda x: tg.broadcast_to(x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        [R(3, 1)],
    ),
    (
        "take_along_axis",
        lambda x: tg.take_along_axis(x, np.array([[0, 2], [1, 1], [3, 0]]), 1),
        lambda x: np.take_along_axis(x, np.array([[0, 2], [1, 1], [3, 0]]), 1),
        [X34],
    ),
    ("reshape method", lambda x: x.reshape(4, 3).T, lambda x: x.reshape(4, 3).T, [X34]),
    (
        "array of tensors",
        lambda a, b: tg.array([[a, b], [b, a]]),
        lambda a, b: np.array([[a, b], [b, a]]),
        [np.array(0.5), np.array(-1.5)],
    ),
]

MORE = [  # the rest of numpy's functions that models reach for
    ("partition", lambda x: tg.partition(x, 2, axis=1), lambda x: np.partition(x, 2, axis=1), [D(3, 5)]),
    ("diff", lambda x: tg.diff(x, 2, axis=0), lambda x: np.diff(x, 2, axis=0), [R(5, 3)]),
    ("diff last", tg.diff, np.diff, [R(3, 4)]),
    ("rot90", tg.rot90, np.rot90, [X34]),
    ("rot90 twice", lambda x: tg.rot90(x, 2), lambda x: np.rot90(x, 2), [X34]),
    ("rot90 back", lambda x: tg.rot90(x, -1, axes=(1, 2)), lambda x: np.rot90(x, -1, axes=(1, 2)), [X234]),
    (
        "column_stack",
        lambda a, b: tg.column_stack([a, b]),
        lambda a, b: np.column_stack([a, b]),
        [R(3), R(3, 2)],
    ),
    ("dstack", lambda a, b: tg.dstack([a, b]), lambda a, b: np.dstack([a, b]), [X34, R(3, 4)]),
    ("row_stack", lambda a, b: tg.row_stack([a, b]), lambda a, b: np.vstack([a, b]), [R(4), X34]),
    ("append", tg.append, np.append, [X34, R(2)]),
    (
        "append axis",
        lambda a, b: tg.append(a, b, axis=0),
        lambda a, b: np.append(a, b, axis=0),
        [X34, R(1, 4)],
    ),
    ("hsplit", lambda x: tg.hsplit(x, 2)[1], lambda x: np.hsplit(x, 2)[1], [X34]),
    ("vsplit", lambda x: tg.vsplit(x, [1])[1], lambda x: np.vsplit(x, [1])[1], [X34]),
    (
        "select",
        lambda a, b: tg.select([a > 0.5, a < -0.5], [a, b], 0.0),
        lambda a, b: np.select([a > 0.5, a < -0.5], [a, b], 0.0),
        [X34, R(3, 4)],
    ),
    ("kron", tg.kron, np.kron, [R(2, 3), R(3, 2)]),
    ("kron vectors", tg.kron, np.kron, [R(2), R(3)]),
    ("cross", tg.cross, np.cross, [R(4, 3), R(4, 3)]),
    (
        "cross axis",
        lambda a, b: tg.cross(a, b, axis=0),
        lambda a, b: np.cross(a, b, axis=0),
        [R(3, 2), R(3, 2)],
    ),
    ("nan_to_num", tg.nan_to_num, np.nan_to_num, [np.array([1.5, np.nan, np.inf, -np.inf])]),
    (
        "nan_to_num values",
        lambda x: tg.nan_to_num(x, nan=-1.0, posinf=9.0),
        lambda x: np.nan_to_num(x, nan=-1.0, posinf=9.0),
        [np.array([1.5, np.nan, np.inf, -np.inf])],
    ),
    (
        "linspace",
        lambda a, b: tg.linspace(a, b, 5),
        lambda a, b: np.linspace(a, b, 5),
        [np.array(0.5), np.array(2.0)],
    ),
    (
        "linspace arrays",
        lambda a, b: tg.linspace(a, b, 4, endpoint=False),
        lambda a, b: np.linspace(a, b, 4, endpoint=False),
        [R(3), R(3)],
    ),
    ("rollaxis", lambda x: tg.rollaxis(x, 2), lambda x: np.rollaxis(x, 2), [X234]),
    ("rollaxis start", lambda x: tg.rollaxis(x, 0, 2), lambda x: np.rollaxis(x, 0, 2), [X234]),
    ("real conj", lambda x: tg.real(tg.conj(x)), lambda x: np.real(np.conj(x)), [X34]),
    ("expit", tg.expit, scipy.special.expit, [X34]),
    ("inv", tg.linalg.inv, np.linalg.inv, [R(3, 3) + 3 * np.eye(3)]),
    ("inv batch", tg.linalg.inv, np.linalg.inv, [R(2, 2, 2) + 3 * np.eye(2)]),
    ("det", tg.linalg.det, np.linalg.det, [R(3, 3) + 3 * np.eye(3)]),
    ("det batch", tg.linalg.det, np.linalg.det, [R(2, 3, 3)]),
    ("slogdet", lambda a: tg.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], [R(3, 3)]),
    ("solve vector", tg.linalg.solve, np.linalg.solve, [R(3, 3) + 3 * np.eye(3), R(3)]),
    ("solve matrix", tg.linalg.solve, np.linalg.solve, [R(3, 3) + 3 * np.eye(3), R(3, 2)]),
    ("solve batch", tg.linalg.solve, np.linalg.solve, [R(2, 3, 3) + 3 * np.eye(3), R(2, 3, 2)]),
    ("solve batch vector", tg.linalg.solve, np.linalg.solve, [R(2, 3, 3) + 3 * np.eye(3), R(3)]),
    ("linalg norm", lambda x: tg.linalg.norm(x, axis=0), lambda x: np.linalg.norm(x, axis=0), [X34]),
    ("sinc", tg.sinc, np.sinc, [np.array([0.0, 0.4, -1.3, 2e-4])]),
    ("gradient", tg.gradient, np.gradient, [R(6)]),
    (
        "gradient axes",
        lambda x: tg.stack(tg.gradient(x, 0.5)),
        lambda x: np.stack(np.gradient(x, 0.5)),
        [X34],
    ),
    ("cumprod", lambda x: tg.cumprod(x, axis=1), lambda x: np.cumprod(x, axis=1), [R(3, 4)]),
    ("cumprod zeros", tg.cumprod, np.cumprod, [np.array([1.5, 0.0, 2.0, -1.0])]),
    (
        "nansum",
        lambda x: tg.nansum(x, axis=0),
        lambda x: np.nansum(x, axis=0),
        [np.array([[1.0, np.nan], [2.0, 3.0]])],
    ),
    ("nanmean", tg.nanmean, np.nanmean, [np.array([[1.0, np.nan], [2.0, 3.0]])]),
    ("r_", lambda a, b: tg.r_[a, b, 2.0], lambda a, b: np.r_[a, b, 2.0], [R(3), R(2)]),
    ("c_", lambda a, b: tg.c_[a, b], lambda a, b: np.c_[a, b], [R(3), R(3, 2)]),
    ("erfc", tg.special.erfc, scipy.special.erfc, [R(4)]),
    ("erfinv", tg.special.erfinv, scipy.special.erfinv, [U(4)]),
    ("gammaln", tg.special.gammaln, scipy.special.gammaln, [P(4) + 0.5]),
    ("gamma", tg.special.gamma, scipy.special.gamma, [P(4) + 0.5]),
    ("digamma", tg.special.digamma, scipy.special.digamma, [P(4)]),
    (
        "polygamma",
        lambda x: tg.special.polygamma(2, x),
        lambda x: scipy.special.polygamma(2, x).astype(x.dtype),
        [P(3)],
    ),
    ("logit", tg.special.logit, scipy.special.logit, [R(4, low=0.1, high=0.9)]),
]


@pytest.mark.parametrize(("name", "engine", "reference", "inputs"), MORE, ids=[c[0] for c in MORE])
def test_more_of_numpy_matches_and_differentiates(name, engine, reference, inputs):
    test_compositions_match_numpy_and_differentiate(name, engine, reference, inputs)


EINSUMS = [
    ("ij,jk->ik", [R(2, 3), R(3, 4)]), ("ij,jk", [R(2, 3), R(3, 4)]), ("ii->i", [R(3, 3)]),
    ("ii", [R(3, 3)]), ("ij->ji", [X34]), ("ij", [X34]), ("ba", [X34]), ("i,i", [R(3), R(3)]),
    ("i,j->ij", [R(3), R(2)]), ("...ij,...jk->...ik", [R(2, 1, 2, 3), R(4, 3, 2)]),
    ("...i,...i", [R(1, 3), R(2, 3)]), ("ij,ij->ij", [R(1, 3), R(2, 3)]), ("iij->ji", [R(2, 2, 3)]),
    ("ijk,ik,j->kj", [R(2, 3, 2), R(2, 2), R(3)]), ("i...->...", [X234]),
    ("bij,bjk->bik", [X234, R(2, 4, 2)]),
    ("a,b,c->abc", [R(2), R(3), R(2)]), ("ij->", [X34]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "engine", "reference", "inputs"), COMPOSED, ids=[c[0] for c in COMPOSED])
def test_compositions_match_numpy_and_differentiate(name, engine, reference, inputs):
    expected = reference(*inputs)
    result = engine(*inputs)
    assert np.shape(result) == np.shape(expected)
    np.testing.assert_allclose(result, expected, rtol=1e-13, atol=1e-15)
    float32 = [x.astype(np.float32) for x in inputs]
    assert np.asarray(engine(*float32)).dtype == np.asarray(reference(*float32)).dtype
    tg.check_grads(engine, *inputs, order=2)


@pytest.mark.parametrize(("subscripts", "inputs"), EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_follows_numpy_for_any_subscripts_and_differentiates(subscripts, inputs):
    np.testing.assert_allclose(tg.einsum(subscripts, *inputs), np.einsum(subscripts, *inputs), rtol=1e-13)
    tg.check_grads(lambda *xs: tg.einsum(subscripts, *xs), *inputs, order=2)


def test_split_and_array_split_give_lists_whose_gradients_flow_back():
    x = R(7, 2)
    for engine, reference, sections in [
        (tg.array_split, np.array_split, 3),
        (tg.split, np.split, [2, 5]),
        (tg.array_split, np.array_split, [3, 1, 9]),
    ]:
        pieces = engine(x, sections)
        expected = reference(x, sections)
        assert isinstance(pieces, list) and len(pieces) == len(expected)
        for piece, want in zip(pieces, expected):
            np.testing.assert_array_equal(piece, want)
    weights = R(2)

    def f(x):
        a, b, c = tg.array_split(x, 3)
        return tg.sum(a * 1.0) + tg.sum(b * b) + tg.sum(c @ weights)

    tg.check_grads(f, x, order=2)
    with pytest.raises(ValueError, match="equal division"):
        tg.split(x, 3)


def test_split_along_an_axis_with_list_output_through_vjp():
    x = R(2, 6)
    value, pullback = tg.vjp(lambda x: tg.split(x, 3, axis=1), x)
    assert [v.shape for v in value] == [(2, 2)] * 3
    (g,) = pullback([np.ones((2, 2)), np.zeros((2, 2)), 2 * np.ones((2, 2))])
    np.testing.assert_array_equal(g, np.repeat([[1.0, 0.0, 2.0]], 2, axis=0).repeat(2, axis=1))


@pytest.mark.parametrize(
    ("engine", "reference"),
    [
        (lambda x: tg.softplus(x), lambda x: np.logaddexp(x, 0)),
        (lambda x: tg.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
        (lambda x: tg.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
        (lambda x: tg.gelu(x), lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
        (
            lambda x: tg.gelu(x, approximate=False),
            lambda x: 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2))),
        ),
        (lambda x: tg.silu(x), lambda x: x / (1 + np.exp(-x))),
        (lambda x: tg.log_sigmoid(x), lambda x: -np.logaddexp(0, -x)),
        (lambda x: tg.erf(x), scipy.special.erf),
    ],
)
def test_activations_match_their_formulas_and_differentiate(engine, reference):
    x = R(3, 4, low=-3, high=3) + 0.05
    np.testing.assert_allclose(engine(x), reference(x), rtol=1e-12, atol=1e-15)
    tg.check_grads(engine, x, order=2)


def test_softplus_and_logsumexp_do_not_overflow():
    big = np.array([1000.0, -1000.0])
    np.testing.assert_allclose(tg.softplus(big), [1000.0, 0.0])
    assert tg.logsumexp(big) == pytest.approx(1000.0)
    np.testing.assert_allclose(tg.grad(lambda x: tg.logsumexp(x))(big), [1.0, 0.0])


def test_tensor_methods_and_operators_follow_numpy():
    x, y = R(3, 4), P(3, 4)

    def f(t):
        return (
            t.sum(axis=0) + t.mean(axis=0) + t.max(axis=0) + t.min(axis=0) + t.prod(axis=0) + t.var(axis=0)
            + t.std(axis=0) + t.cumsum(axis=0)[-1] + abs(t)[0] + (t % 0.7)[1] + (t**2)[2] + (2.0**t)[0]
            + t.clip(-0.5, 0.5)[0] + t.T.ravel()[:4] + t.flatten()[4:8] + t.swapaxes(0, 1)[:, 0:1].squeeze()
            + t.astype(np.float64)[0] + t.T.dot(y)[0] + (y**t)[0]
        )  # fmt: skip

    expected = (
        x.sum(0) + x.mean(0) + x.max(0) + x.min(0) + x.prod(0) + x.var(0) + x.std(0) + x.cumsum(0)[-1]
        + abs(x)[0] + (x % 0.7)[1] + (x**2)[2] + (2.0**x)[0] + x.clip(-0.5, 0.5)[0] + x.T.ravel()[:4]
        + x.flatten()[4:8] + x.swapaxes(0, 1)[:, 0] + x[0] + x.T.dot(y)[0] + (y**x)[0]
    )  # fmt: skip
    np.testing.assert_allclose(f(x), expected, rtol=1e-13)
    tg.check_grads(f, x, modes=["rev"])


def test_argmax_and_argmin_see_through_a_traced_value_and_give_integers():
    x = D(3, 4)

    def f(t):
        assert t.argmax() == x.argmax() and tg.argmin(t, axis=0).tolist() == x.argmin(axis=0).tolist()
        assert tg.argmax(t, axis=1, keepdims=True).shape == (3, 1)
        return tg.sum(t)

    np.testing.assert_array_equal(tg.grad(f)(x), np.ones((3, 4)))


@pytest.mark.parametrize("layer", ["matmul", "affine"])
def test_a_column_major_matrix_gets_its_cotangent_in_the_same_memory_order(layer):
    """The cotangent of a transposed-in-memory matrix (a flattened batch-last activation) is written
    column-major too: the same values, and the elementwise VJPs before it see one memory order."""
    x, w, b = R(6, 4), R(4, 3), R(3)
    g = R(6, 3)

    def f(v):
        return tg.matmul(v, w) if layer == "matmul" else tg.affine(v, w, b)

    for images in (x, np.asfortranarray(x)):
        _, pullback = tg.vjp(f, images)
        (cotangent,) = pullback(g)
        np.testing.assert_allclose(cotangent, g @ w.T, rtol=1e-12)
        assert cotangent.flags.f_contiguous == images.flags.f_contiguous
    tg.check_grads(f, np.asfortranarray(x), order=2)


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.999, 0.0, 1.0, 1.5, -0.3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_is_its_definition_at_the_edges_and_keeps_dtype_and_layout(slope, dtype):
    """Its branch-free form (slopes in (0, 1)) against `np.where`'s, infinities, NaN and zeros
    included; the slope in the VJP is in x's dtype and memory order."""
    edges = np.array([-np.inf, -3.5, -1e-30, -0.0, 0.0, 1e-30, 2.5, np.inf, np.nan], dtype=dtype)
    with np.errstate(invalid="ignore"):  # 0 * inf, in the definition itself
        expected = np.where(edges > 0, edges, slope * edges)
        got = tg.leaky_relu(edges, slope)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    x = np.asfortranarray(R(5, 4).astype(dtype))
    _, pullback = tg.vjp(lambda v: tg.leaky_relu(v, slope), x)
    g = np.asfortranarray(R(5, 4).astype(dtype))
    (cotangent,) = pullback(g)
    np.testing.assert_array_equal(cotangent, g * np.where(x > 0, 1, dtype(slope)).astype(dtype))
    rule = tg.leaky_relu.vjps[0](g, None, x, slope)  # before the engine casts it back to x's dtype
    assert rule.dtype == dtype and rule.flags.f_contiguous


def test_leaky_relu_takes_a_slope_per_channel_broadcast_against_x():
    x, slopes = R(3, 4), np.array([0.1, 0.2, 1.5, 0.0])
    np.testing.assert_array_equal(tg.leaky_relu(x, slopes), np.where(x > 0, x, slopes * x))
    grad = tg.grad(lambda v: tg.sum(tg.leaky_relu(v, slopes)))(x)
    np.testing.assert_array_equal(grad, np.where(x > 0, 1.0, np.broadcast_to(slopes, x.shape)))
