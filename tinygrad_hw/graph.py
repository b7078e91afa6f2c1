"""Seeing the tape: the graph a function records, and a drawing of it.

`graph(f, *args)` runs f once under a reverse trace and returns what was recorded: one node per
input leaf and per primitive applied, each with its primitive, shape and dtype, and the nodes it was
computed from. By default it also runs the backward pass (of f itself when f is a scalar, of
sum(f) otherwise) and records the norm of every node's cotangent: where gradients vanish or blow up
is then visible at a glance. `Graph.draw(path)` renders it (as micrograd's draw_dot does for
scalars), through graphviz's `dot` when it is installed, else with matplotlib.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import numpy as np

from .autodiff import backward, differentiable_inputs, new_trace
from .pytree import leaf_paths, tree_flatten, tree_unflatten
from .tensor import Tensor


@dataclasses.dataclass
class Node:
    """One value of the recorded computation."""

    index: int
    op: str  # the primitive's name, or "input"
    shape: tuple
    dtype: str
    inputs: list[int]  # the indices of the nodes it was computed from
    label: str = ""  # an input's path in the arguments, e.g. "[0]['W1']"
    cotangent_norm: float | None = None  # after the backward pass

    def describe(self):
        name = self.label or self.op
        text = f"{name}\n{self.shape} {self.dtype}"
        if self.cotangent_norm is not None:
            text += f"\n|grad| {self.cotangent_norm:.3g}"
        return text


@dataclasses.dataclass
class Graph:
    """The nodes in the order they were made (inputs first); the last is the output."""

    nodes: list[Node]

    def to_dot(self):
        """The graph in graphviz's DOT language."""
        lines = ["digraph tape {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];']
        for node in self.nodes:
            label = node.describe().replace("\n", "\\n")
            style = ", style=filled, fillcolor=lightblue" if node.op == "input" else ""
            lines.append(f'  n{node.index} [label="{label}"{style}];')
            lines.extend(f"  n{parent} -> n{node.index};" for parent in node.inputs)
        return "\n".join(lines + ["}"]) + "\n"

    def draw(self, path):
        """Render to `path` (.svg or .png): with graphviz if installed, otherwise matplotlib."""
        path = str(path)
        fmt = path.rsplit(".", 1)[-1].lower()
        if fmt not in ("svg", "png"):
            raise ValueError(f"draw: the file must end in .svg or .png, got {path!r}")
        if shutil.which("dot"):
            subprocess.run(["dot", f"-T{fmt}", "-o", path], input=self.to_dot().encode(), check=True)
        else:
            figure = _matplotlib_figure(self)
            figure.savefig(path, format=fmt, dpi=110, bbox_inches="tight")
            import matplotlib.pyplot as plt

            plt.close(figure)
        return path


def graph(f, *args, backward_pass=True):
    """Record f(*args) and return its Graph; with `backward_pass`, with cotangent norms too."""
    trace = new_trace()
    leaves, treedef = tree_flatten(args)
    inputs = [Tensor(x, trace) for x in differentiable_inputs(leaves, args)]
    out = f(*tree_unflatten(treedef, inputs))
    tape = trace.finish()
    index = {}
    nodes = []
    for tensor, path in zip(inputs, leaf_paths(args)):
        index[id(tensor)] = len(nodes)
        nodes.append(Node(len(nodes), "input", tuple(tensor.shape), str(tensor.dtype), [], label=path or "x"))
    for tensor in tape:
        parents = [index[id(parent)] for _, parent in tensor.parents if id(parent) in index]
        index[id(tensor)] = len(nodes)
        nodes.append(Node(len(nodes), tensor.prim.name, tuple(tensor.shape), str(tensor.dtype), parents))
    if backward_pass and type(out) is Tensor and out.trace is trace:

        def record(node, g):
            nodes[index[id(node)]].cotangent_norm = _norm(g)

        cotangents = backward(tape, {id(out): np.ones(out.shape, out.dtype)}, visit=record)
        for tensor in inputs:
            if id(tensor) in cotangents:
                nodes[index[id(tensor)]].cotangent_norm = _norm(cotangents[id(tensor)])
    return Graph(nodes)


def _norm(g):
    return float(np.linalg.norm(np.ravel(g)))


def _layers(graph):
    """The column of each node: one more than its deepest input; an input sits just before the
    first node that uses it (so that a weight used late is drawn late, with a short arrow)."""
    depth = []
    for node in graph.nodes:
        depth.append(1 + max((depth[i] for i in node.inputs), default=-1))
    first_use = {}
    for node in graph.nodes:
        for i in node.inputs:
            first_use[i] = min(first_use.get(i, depth[node.index]), depth[node.index])
    return [first_use.get(n.index, 1) - 1 if n.op == "input" else d for n, d in zip(graph.nodes, depth)]


def _matplotlib_figure(graph):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depth = _layers(graph)
    columns = {}
    position = {}
    for node, d in zip(graph.nodes, depth):
        row = columns.setdefault(d, [])
        position[node.index] = (d, len(row))
        row.append(node.index)
    width, height = max(columns) + 1, max(len(r) for r in columns.values())
    figure, axes = plt.subplots(figsize=(2.6 * width + 1, 1.1 * height + 1))
    axes.set_xlim(-0.6, width - 0.4)
    axes.set_ylim(-0.7, height - 0.3)
    axes.invert_yaxis()
    axes.axis("off")
    for node in graph.nodes:
        x, y = position[node.index]
        for parent in node.inputs:
            px, py = position[parent]
            # an edge that skips columns bends, so that it does not run through the boxes between
            bend = 0.0 if x - px <= 1 else -0.25
            arrow = {"arrowstyle": "->", "color": "0.4", "lw": 0.8, "connectionstyle": f"arc3,rad={bend}"}
            axes.annotate("", xy=(x - 0.38, y), xytext=(px + 0.38, py), arrowprops=arrow)
        colour = "#cfe8ff" if node.op == "input" else "#f3f3f3"
        axes.text(
            x,
            y,
            node.describe(),
            ha="center",
            va="center",
            fontsize=7,
            family="monospace",
            bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "0.5"},
        )
    return figure
