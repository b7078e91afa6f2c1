"""Optimisers, as plain functions: parameters, gradients and state in; new parameters and state out.

Each optimiser has an `*_init(params)` giving its state (a dict of pytrees shaped like the
parameters, and a step count), and an update `(params, grads, state, ...) -> (params, state)`.
Nothing is mutated. Gradients are matched to parameters by structure (dicts by key), so their key
order does not matter.

The updates follow PyTorch's `torch.optim` formulas, operation for operation, so that from the same
weights and gradients they agree to rounding (a test checks 1e-12 in float64):
  * Adam:   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
            p = p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  * AdamW:  as Adam, after shrinking the weights: p = p (1 - lr wd)  (decoupled weight decay)
  * RMSprop: s = a s + (1 - a) g^2;  p = p - lr g / (sqrt(s) + eps)  (optionally with momentum,
             and centred: s - mean(g)^2)
  * SGD with momentum, PyTorch's form: g = g + wd p;  b = m b + g;  p = p - lr b  (the learning
             rate applied to the buffer, so that a schedule changes the step at once; Nesterov
             optional). `nn.momentum` is the homework's form, M = m M - lr g, which agrees with it
             only while the learning rate is constant.
`clip_by_global_norm` scales all gradients together when their joint norm exceeds a bound.
"""

from __future__ import annotations

import math

import numpy as np

from .pytree import tree_leaves, tree_map


def _zeros_like_tree(params):
    return tree_map(np.zeros_like, params)


# -- Adam and AdamW ----------------------------------------------------------------------------


def adam_init(params):
    """Adam's state: the step count and the running first and second moments (zeros)."""
    return {"step": 0, "m": _zeros_like_tree(params), "v": _zeros_like_tree(params)}


def adam(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0):
    """One Adam step (Kingma and Ba, 2015): per-parameter steps scaled by running gradient moments.

    `weight_decay` adds wd * p to the gradient (L2 regularisation, as torch.optim.Adam); for the
    decoupled form use `adamw`. Returns the new parameters and state.
    """
    step = state["step"] + 1
    if weight_decay:
        grads = tree_map(lambda g, p: g + weight_decay * p, grads, params)
    return _adam_update(params, grads, state, step, lr, b1, b2, eps)


def adamw_init(params):
    """AdamW's state: the same as Adam's."""
    return adam_init(params)


def adamw(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-2):
    """One AdamW step (Loshchilov and Hutter, 2019): Adam with the weights shrunk by lr * wd
    directly, so the decay does not pass through the moments."""
    step = state["step"] + 1
    shrunk = tree_map(lambda p: p * (1 - lr * weight_decay), params)
    return _adam_update(shrunk, grads, state, step, lr, b1, b2, eps)


def _adam_update(params, grads, state, step, lr, b1, b2, eps):
    m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = tree_map(lambda v, g: b2 * v + (1 - b2) * (g * g), state["v"], grads)
    step_size = lr / (1 - b1**step)
    root_correction = math.sqrt(1 - b2**step)

    def update(p, m, v):
        return p - step_size * (m / (np.sqrt(v) / root_correction + eps))

    return tree_map(update, params, m, v), {"step": step, "m": m, "v": v}


# -- SGD with momentum and weight decay (PyTorch's form) ---------------------------------------


def sgd_momentum_init(params):
    """The momentum buffers: zeros shaped like the parameters."""
    return {"step": 0, "buffer": _zeros_like_tree(params)}


def sgd_momentum(params, grads, state, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    """One step of SGD with momentum and L2 weight decay, as torch.optim.SGD computes it."""
    if weight_decay:
        grads = tree_map(lambda g, p: g + weight_decay * p, grads, params)
    if state["step"] == 0:  # PyTorch starts the buffer at the first gradient itself
        buffer = tree_map(lambda g: np.array(g, copy=True), grads)
    else:
        buffer = tree_map(lambda b, g: momentum * b + g, state["buffer"], grads)
    step = tree_map(lambda g, b: g + momentum * b, grads, buffer) if nesterov else buffer
    return tree_map(lambda p, d: p - lr * d, params, step), {"step": state["step"] + 1, "buffer": buffer}


# -- RMSprop -----------------------------------------------------------------------------------


def rmsprop_init(params, momentum=0.0, centered=False):
    """RMSprop's state: running mean of g^2, and the momentum buffer and mean of g when used."""
    state = {"step": 0, "square_avg": _zeros_like_tree(params)}
    if momentum:
        state["momentum"] = _zeros_like_tree(params)
    if centered:
        state["grad_avg"] = _zeros_like_tree(params)
    return state


def rmsprop(
    params, grads, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
):
    """One RMSprop step (Hinton's lecture 6e): divide the gradient by a running RMS of itself."""
    if weight_decay:
        grads = tree_map(lambda g, p: g + weight_decay * p, grads, params)
    square_avg = tree_map(lambda s, g: alpha * s + (1 - alpha) * (g * g), state["square_avg"], grads)
    new_state = {"step": state["step"] + 1, "square_avg": square_avg}
    if centered:
        grad_avg = tree_map(lambda a, g: alpha * a + (1 - alpha) * g, state["grad_avg"], grads)
        new_state["grad_avg"] = grad_avg
        avg = tree_map(lambda s, a: np.sqrt(s - a * a) + eps, square_avg, grad_avg)
    else:
        avg = tree_map(lambda s: np.sqrt(s) + eps, square_avg)
    if momentum:
        buffer = tree_map(lambda b, g, a: momentum * b + g / a, state["momentum"], grads, avg)
        new_state["momentum"] = buffer
        return tree_map(lambda p, b: p - lr * b, params, buffer), new_state
    return tree_map(lambda p, g, a: p - lr * (g / a), params, grads, avg), new_state


# -- gradient clipping -------------------------------------------------------------------------


def global_norm(tree):
    """The 2-norm of all the leaves of a pytree taken together."""
    return math.sqrt(sum(float(np.sum(np.square(leaf, dtype=np.float64))) for leaf in tree_leaves(tree)))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one factor so that their joint 2-norm is at most `max_norm`.

    Returns the clipped gradients and the norm before clipping (as torch's clip_grad_norm_, with its
    1e-6 guard against dividing by zero). Clipping keeps the direction of the step and bounds its
    length, which tames the rare huge gradient of a recurrent net or an early training step.
    """
    norm = global_norm(grads)
    scale = max_norm / (norm + 1e-6)
    if scale >= 1:
        return grads, norm
    return tree_map(lambda g: g * np.asarray(scale, dtype=g.dtype), grads), norm
