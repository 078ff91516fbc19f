"""Writing a sealed offer back into ruamel's round-trip tree, so that everything that did not
change keeps its formatting (flow-style approval lines, quotes, comments outside encrypted
fields) and the file's diff shows only the values that changed.

Comments inside encrypted subtrees are dropped: a comment there would be plaintext next to a
ciphertext (``# agreed 185k``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from offerctl.privacy import document, values


def _plain(value: Any) -> Any:
    from offerctl.store.yamlio import plain

    return plain(value)


def _is_flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return bool(fa is not None and fa.flow_style())


def _scalar(value: Any, flow: bool) -> Any:
    from offerctl.store import yamlio

    if isinstance(value, str) and (values.is_token(value) or (flow and yamlio._needs_quotes(value))):
        return yamlio.quoted(value) if flow else value
    return value


def _container(value: Any, flow: bool) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _container(v, flow)
        if flow:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq()
        for v in value:
            seq.append(_container(v, flow))
        if flow:
            seq.fa.set_flow_style()
        return seq
    return _scalar(value, flow)


def _drop_comments(node: Any) -> None:
    ca = getattr(node, "ca", None)
    if ca is not None:
        ca.items.clear()
        if getattr(ca, "comment", None):
            ca.comment = None
    if isinstance(node, Mapping):
        for v in node.values():
            _drop_comments(v)
    elif isinstance(node, list):
        for v in node:
            _drop_comments(v)


def _merge(node: Any, value: Any, layout: document.Layout, keys: tuple[str, ...]) -> Any:
    """``node`` changed in place to hold ``value``; returns the node to store (new or same)."""
    flow = _is_flow(node)
    target: Any = node
    if isinstance(value, Mapping) and isinstance(node, Mapping):
        for key in [k for k in node if k not in value]:
            del target[key]
        for position, (key, child) in enumerate(value.items()):
            if key in node:
                target[key] = _merge(node[key], child, layout, (*keys, key))
            else:
                target.insert(position, key, _container(child, flow))
        if layout.tier(keys) is not None:
            _drop_comments(node)
        return node
    if isinstance(value, list) and isinstance(node, list) and len(value) == len(node):
        for index, child in enumerate(value):
            node[index] = _merge(node[index], child, layout, keys)
        return node
    if isinstance(value, Mapping | list) or isinstance(node, Mapping | list):
        return _container(value, flow)
    if _plain(node) == value and type(_plain(node)) is type(value):
        return node
    return _scalar(value, flow)


def sops_block(meta: Mapping[str, Any]) -> Any:
    """The ``sops:`` mapping in block style, each wrapped key as a literal block."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    out = CommentedMap()
    for key, value in meta.items():
        if key == "age" and isinstance(value, list):
            seq = CommentedSeq()
            for entry in value:
                item = CommentedMap()
                item["recipient"] = entry["recipient"]
                enc = str(entry["enc"])
                item["enc"] = LiteralScalarString(enc if enc.endswith("\n") else enc + "\n")
                seq.append(item)
            out[key] = seq
        else:
            out[key] = value
    return out


def apply(rt: Any, sealed: Mapping[str, Any], layout: document.Layout) -> None:
    """Make the round-trip tree ``rt`` hold ``sealed``."""
    for key in [k for k in rt if k not in sealed]:
        del rt[key]
    for position, (key, value) in enumerate(sealed.items()):
        if key == document.METADATA_KEY:
            old = rt.get(key)
            if isinstance(old, Mapping) and _plain(old) == _plain(value):
                continue
            if key in rt:
                rt[key] = sops_block(value)
            else:
                rt.insert(position, key, sops_block(value))
            continue
        if key in rt:
            rt[key] = _merge(rt[key], value, layout, (key,))
        else:
            rt.insert(position, key, _container(value, False))
