"""Nested query-string parsing: "a=1&b[0]=x&b[1]=y&c[d]=z" ->
{"a": "1", "b": ["x", "y"], "c": {"d": "z"}} (with normalized=True, dicts
whose keys are all integers become lists ordered by key). A key given more
than once collects its values in a list. Values stay strings."""
import re
from urllib.parse import unquote_plus

_PART = re.compile(r"\[([^\]]*)\]")


def _key_parts(key):
    head = key.split("[", 1)[0]
    parts = [head] + _PART.findall(key[len(head):])
    return [int(p) if p.isdigit() else p for p in parts]


def _normalize(value):
    if isinstance(value, dict):
        value = {k: _normalize(v) for k, v in value.items()}
        if value and all(isinstance(k, int) for k in value):
            return [value[k] for k in sorted(value)]
    return value


def parse(query_string, unquote=True, normalized=False, encoding=None):
    if isinstance(query_string, bytes):
        query_string = query_string.decode(encoding or "utf-8")
    out = {}
    for pair in query_string.split("&"):
        if not pair:
            continue
        key, _, val = pair.partition("=")
        if unquote:
            key, val = unquote_plus(key), unquote_plus(val)
        parts = _key_parts(key)
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                node[p] = nxt
            node = nxt
        last = parts[-1]
        if last in node and not isinstance(node[last], dict):
            prev = node[last]
            node[last] = (prev if isinstance(prev, list) else [prev]) + [val]
        else:
            node[last] = val
    return _normalize(out) if normalized else out
