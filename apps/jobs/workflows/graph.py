"""The shape of a workflow graph: node and edge format, cycles, connectivity and connection order.

Pure functions over plain data (no database). Errors are ``{"node_id", "field", "message"}``
dicts; ``node_id`` is ``None`` only for problems of the whole graph (e.g. no model at all).
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DATASET, PREPROCESSING, MODEL, EVALUATION = "dataset", "preprocessing", "model", "evaluation"
NODE_TYPES = (DATASET, PREPROCESSING, MODEL, EVALUATION)
# Which node types may feed which: dataset -> preprocessing* -> model(s) -> evaluation.
ALLOWED_EDGES = {
    (DATASET, PREPROCESSING),
    (DATASET, MODEL),
    (PREPROCESSING, PREPROCESSING),
    (PREPROCESSING, MODEL),
    (MODEL, EVALUATION),
}
ORDER = "the order is dataset → preprocessing (optional, a chain) → model(s) → evaluation (optional)"
MAX_NODES = 50
MAX_EDGES = 500
MAX_MODELS = 10
MAX_ID_LENGTH = 100


def error(node_id: str | None, field_name: str, message: str) -> dict[str, Any]:
    """One validation error."""
    return {"node_id": node_id, "field": field_name, "message": message}


@dataclass
class Graph:
    """Nodes by id (insertion order kept) and deduplicated edges."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def type_of(self, node_id: str) -> str:
        """The node's type."""
        return self.nodes[node_id]["type"]

    def data(self, node_id: str) -> dict[str, Any]:
        """The node's ``data`` object (empty when absent)."""
        return self.nodes[node_id]["data"]

    def of_type(self, node_type: str) -> list[str]:
        """Ids of the nodes of ``node_type``, in the order sent."""
        return [node_id for node_id, node in self.nodes.items() if node["type"] == node_type]

    def inputs(self, node_id: str) -> list[str]:
        """Nodes with an edge into ``node_id``."""
        return [source for source, target in self.edges if target == node_id]

    def outputs(self, node_id: str) -> list[str]:
        """Nodes ``node_id`` has an edge to."""
        return [target for source, target in self.edges if source == node_id]


def parse(nodes: list[Any], edges: list[Any]) -> tuple[Graph, list[dict[str, Any]]]:
    """Check the format of every node and edge; answer the graph and the format errors."""
    graph, errors = Graph(), []
    if len(nodes) > MAX_NODES:
        return graph, [error(None, "nodes", f"a workflow has at most {MAX_NODES} nodes")]
    if len(edges) > MAX_EDGES:
        return graph, [error(None, "edges", f"a workflow has at most {MAX_EDGES} edges")]
    for index, node in enumerate(nodes):
        errors.extend(_parse_node(graph, index, node))
    seen = set()
    for index, edge in enumerate(edges):
        parsed, edge_errors = _parse_edge(graph, index, edge)
        errors.extend(edge_errors)
        if parsed and parsed not in seen:
            seen.add(parsed)
            graph.edges.append(parsed)
    return graph, errors


def _parse_node(graph: Graph, index: int, node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return [error(None, f"nodes[{index}]", "must be an object with id, type and data")]
    node_id = node.get("id")
    if not isinstance(node_id, str) or not node_id.strip() or len(node_id) > MAX_ID_LENGTH:
        return [error(None, f"nodes[{index}].id", f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")]
    if node_id in graph.nodes:
        return [error(node_id, "id", "another node has the same id")]
    node_type, data = node.get("type"), node.get("data", {})
    if data is None:
        data = {}
    errors = []
    if node_type not in NODE_TYPES:
        errors.append(error(node_id, "type", f"must be one of: {', '.join(NODE_TYPES)}"))
    if not isinstance(data, dict):
        errors.append(error(node_id, "data", "must be an object"))
    if not errors:
        graph.nodes[node_id] = {"type": node_type, "data": data}
    return errors


def _parse_edge(graph: Graph, index: int, edge: Any) -> tuple[tuple[str, str] | None, list[dict[str, Any]]]:
    if not isinstance(edge, dict):
        return None, [error(None, f"edges[{index}]", "must be an object with source and target")]
    source, target = edge.get("source"), edge.get("target")
    errors = []
    for end, value in (("source", source), ("target", target)):
        if not isinstance(value, str) or not value:
            errors.append(error(None, f"edges[{index}].{end}", "must be a node id"))
        elif value not in graph.nodes:
            other = target if end == "source" else source
            node_id = other if isinstance(other, str) and other in graph.nodes else None
            errors.append(error(node_id, f"edges[{index}].{end}", f"names no node: {value!r}"))
    return (None, errors) if errors else ((source, target), [])


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (as a closed path of node ids) per strongly connected component that has one."""
    successors = {node_id: graph.outputs(node_id) for node_id in graph.nodes}
    cycles = []
    for component in _strongly_connected(graph.nodes, successors):
        start = component[0]
        if len(component) > 1 or start in successors[start]:
            cycles.append(_cycle_through(start, set(component), successors))
    return cycles


def _strongly_connected(nodes: Iterable[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on long chains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(successors[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component[::-1])
    return components


def _cycle_through(start: str, members: set[str], successors: dict[str, list[str]]) -> list[str]:
    """The shortest closed path from ``start`` back to itself inside ``members`` (breadth first)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in successors[node]:
            if child not in members:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*path[::-1], start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start, start]  # unreachable for a real cycle; keeps the type total


def check_structure(graph: Graph) -> list[dict[str, Any]]:
    """Every structural problem: dataset count, cycles, connectivity, connection order, chain shape."""
    datasets = graph.of_type(DATASET)
    if not datasets:
        return [error(None, "nodes", "a workflow needs exactly one dataset node; it has none")]
    errors = [error(extra, "type", "a workflow has exactly one dataset node") for extra in datasets[1:]]
    cycles = find_cycles(graph)
    if cycles:
        return errors + [error(cycle[0], "edges", "the workflow has a cycle: " + " → ".join(cycle)) for cycle in cycles]
    errors += _connectivity(graph, datasets[0])
    errors += _connection_order(graph)
    if errors:
        return errors
    return _chain_shape(graph, datasets[0])


def _connectivity(graph: Graph, dataset_id: str) -> list[dict[str, Any]]:
    connected = {end for edge in graph.edges for end in edge}
    reachable = {dataset_id}
    queue = deque([dataset_id])
    while queue:
        for child in graph.outputs(queue.popleft()):
            if child not in reachable:
                reachable.add(child)
                queue.append(child)
    errors = []
    for node_id in graph.nodes:
        if len(graph.nodes) > 1 and node_id not in connected:
            errors.append(error(node_id, "edges", "is not connected to any other node"))
        elif node_id not in reachable:
            errors.append(error(node_id, "edges", f"is not connected to the dataset node {dataset_id!r}"))
    return errors


def _connection_order(graph: Graph) -> list[dict[str, Any]]:
    errors = []
    for source, target in graph.edges:
        pair = (graph.type_of(source), graph.type_of(target))
        if pair not in ALLOWED_EDGES:
            message = f"{_article(pair[0])} node ({source!r}) cannot feed {_article(pair[1])} node; {ORDER}"
            errors.append(error(target, "edges", message))
    for node_id in graph.of_type(PREPROCESSING) + graph.of_type(MODEL):
        inputs = graph.inputs(node_id)
        if len(inputs) > 1:
            names = ", ".join(repr(i) for i in inputs)
            errors.append(error(node_id, "edges", f"takes exactly one input; it has {len(inputs)} ({names})"))
    return errors


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _chain_shape(graph: Graph, dataset_id: str) -> list[dict[str, Any]]:
    """One linear preprocessing chain; every model after its last step; one evaluation after every model."""
    errors, chain_end = [], dataset_id
    while True:
        steps = [n for n in graph.outputs(chain_end) if graph.type_of(n) == PREPROCESSING]
        if len(steps) > 1:
            names = ", ".join(repr(s) for s in steps)
            errors.append(error(chain_end, "edges", f"the preprocessing chain cannot branch; this node feeds {names}"))
            return errors
        if not steps:
            break
        chain_end = steps[0]
    models = graph.of_type(MODEL)
    if not models:
        return [error(None, "nodes", "a workflow needs at least one model node")]
    if len(models) > MAX_MODELS:
        errors.append(error(None, "nodes", f"a workflow has at most {MAX_MODELS} model nodes"))
    for model in models:
        if graph.inputs(model) != [chain_end]:
            errors.append(error(model, "edges", f"a model must follow the last preprocessing step ({chain_end!r})"))
    evaluations = graph.of_type(EVALUATION)
    errors += [error(extra, "type", "a workflow has at most one evaluation node") for extra in evaluations[1:]]
    if evaluations:
        for model in models:
            if evaluations[0] not in graph.outputs(model):
                errors.append(error(model, "edges", f"connect this model to the evaluation node {evaluations[0]!r}"))
    return errors


def chain(graph: Graph, dataset_id: str) -> list[str]:
    """The preprocessing node ids from the dataset onward, in order (for a graph that passed)."""
    steps, node = [], dataset_id
    while True:
        following = [n for n in graph.outputs(node) if graph.type_of(n) == PREPROCESSING]
        if not following:
            return steps
        node = following[0]
        steps.append(node)
