"""The plan of an investigation, computed once per query document.

Building strawberry's ``info.selected_fields`` rebuilds the whole selection tree
on every request (about 0.6 ms for the demo query); the plan derived from it
depends only on the parsed document, which the parser cache hands back as the
same objects, and on the few variables used inside the selection (``@skip``,
``@include``, ``since``/``until``). Both make the cache key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, Visitor, visit
from graphql.language import FragmentSpreadNode, Node, VariableNode

from gateway.plan import Plan, plan_from_selection

MAX_ENTRIES = 256

_CacheKey = tuple[tuple[int, ...], tuple[tuple[str, Hashable], ...]]
_plans: OrderedDict[_CacheKey, tuple[tuple[FieldNode, ...], Plan]] = OrderedDict()
_variables: OrderedDict[tuple[int, ...], tuple[tuple[FieldNode, ...], frozenset[str]]] = (
    OrderedDict()
)


class _References(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.fragments: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.variables.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.fragments.add(node.name.value)


def _inner_variables(
    nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode]
) -> frozenset[str]:
    """The variables used inside the fields' selection sets (fragments followed)."""
    references = _References()
    pending: list[Node] = [n.selection_set for n in nodes if n.selection_set is not None]
    seen: set[str] = set()
    while pending:
        visit(pending.pop(), references)
        for name in references.fragments - seen:
            seen.add(name)
            if name in fragments:
                pending.append(fragments[name])
    return frozenset(references.variables)


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    if len(cache) > MAX_ENTRIES:
        cache.popitem(last=False)


def cached_plan(info: Any) -> Plan:
    """The plan of the ``investigation`` field being resolved (strawberry ``Info``)."""
    raw: GraphQLResolveInfo[Any] = info._raw_info
    # graphql-core 3.3 wraps the coerced values; 3.2 hands over the dict itself.
    supplied: Any = raw.variable_values
    variables: dict[str, Any] = getattr(supplied, "coerced", supplied)
    nodes = tuple(raw.field_nodes)
    ids = tuple(map(id, nodes))
    known = _variables.get(ids)
    # The cached nodes are kept alive with the entry, so an id cannot be reused by
    # another node while the entry exists; identity is still checked.
    if known is None or any(a is not b for a, b in zip(known[0], nodes, strict=True)):
        known = (nodes, _inner_variables(nodes, raw.fragments))
        _remember(_variables, ids, known)
    try:
        values = tuple(sorted((n, variables.get(n)) for n in known[1]))
        key: _CacheKey = (ids, values)
        hit = _plans.get(key)
    except TypeError:  # an unhashable variable value: compute without the cache
        return plan_from_selection(info.selected_fields)
    if hit is not None and all(a is b for a, b in zip(hit[0], nodes, strict=True)):
        _plans.move_to_end(key)
        return hit[1]
    plan = plan_from_selection(info.selected_fields)
    _remember(_plans, key, (nodes, plan))
    return plan
