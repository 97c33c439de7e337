"""HTML building blocks: the page shell with inline CSS, escaped tables and definition lists."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from typing import Any

CSS = """
:root{--fg:#1d2433;--mute:#667085;--line:#e4e7ec;--ok:#1a7f37;--bad:#c0262d;--warn:#b54708;--bg:#f8f9fb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);
margin:0;background:var(--bg)}
header{background:#101828;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#cbd5e1;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:8px 32px 48px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 20px;margin:18px 0}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:14px;margin:16px 0 6px}
div.tablewrap{overflow-x:auto;max-width:100%;margin:6px 0}
table{border-collapse:collapse;width:100%;font-size:13px;margin:0}
th,td{text-align:left;padding:5px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f2f4f7;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.num.wrap{white-space:normal}.nw{white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0 10px}
.card{flex:1 1 200px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fcfcfd}
.card .k{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:20px;font-weight:600;margin-top:2px}
.card .s{color:var(--mute);font-size:12px}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn);font-weight:600}
tr.outlier td{background:#fdecea}
.note{color:var(--mute);font-size:12px}
figure{margin:8px 0 16px}figure svg{max-width:100%;height:auto}
figcaption{font-size:13px;font-weight:600;margin-bottom:2px}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:4px 0;font-size:13px}
dl.kv dt{color:var(--mute)}dl.kv dd{margin:0;word-break:break-word}
dl.kv dl.kv{margin-left:0}
footer{color:var(--mute);font-size:12px;text-align:center;padding:12px}
"""


#: Text cells show at most this many characters (a hostile file's huge string is cut, not laid out).
MAX_CELL = 300


def esc(value: Any, limit: int = MAX_CELL) -> str:
    """Any value as escaped HTML text, cut to ``limit`` characters; lone surrogates become U+FFFD."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = "".join(c if c.isprintable() and unicodedata.category(c) not in ("Cf", "Cs") else "\ufffd"
                   for c in text)
    return html.escape(text, quote=True)


def table(headers: list[str], rows: Iterable[list[str]], *, numeric: set[int] | None = None,
          wrap: set[int] | None = None, row_classes: list[str] | None = None) -> str:
    """A ``<table>`` inside a ``div.tablewrap`` that scrolls sideways, so a wide table stays inside its section;
    cells are HTML already (callers escape), headers are escaped here. ``numeric`` columns are right-aligned
    and kept on one line, except those also in ``wrap`` (figures there keep together in :func:`nowrap` spans)."""
    numeric = numeric or set()
    wrap = wrap or set()
    kind = {j: "num wrap" if j in wrap else "num" for j in numeric}
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="{kind[j]}">{c}</td>' if j in kind else f"<td>{c}</td>" for j, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return (f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div>")


def nowrap(text: str) -> str:
    """``text`` escaped, in a span that a line never breaks inside (a figure and its unit stay together)."""
    return f'<span class="nw">{esc(text)}</span>'


def kv(obj: Any, depth: int = 0) -> str:
    """A nested dict or list as nested definition lists, every key and value escaped."""
    if depth > 6:
        return '<span class="note">(nested deeper: not shown)</span>'
    if isinstance(obj, dict):
        if not obj:
            return '<span class="note">(empty)</span>'
        items = "".join(f"<dt>{esc(k)}</dt><dd>{kv(v, depth + 1)}</dd>" for k, v in obj.items())
        return f'<dl class="kv">{items}</dl>'
    if isinstance(obj, list):
        if not obj:
            return '<span class="note">(none)</span>'
        if all(not isinstance(x, (dict, list)) for x in obj):
            return esc(", ".join(str(x) for x in obj))
        return "".join(f"<div>{kv(x, depth + 1)}</div>" for x in obj)
    if obj is None:
        return '<span class="note">not recorded</span>'
    return esc(obj)


def card(key: str, value: str, sub: str = "", cls: str = "") -> str:
    """A summary tile; ``value`` and ``sub`` are escaped."""
    c = f' class="v {cls}"' if cls else ' class="v"'
    return (f'<div class="card"><div class="k">{esc(key)}</div><div{c}>{esc(value)}</div>'
            f'<div class="s">{esc(sub)}</div></div>')


def section(sid: str, title: str, body: str) -> str:
    """A titled ``<section>``."""
    return f'<section id="{esc(sid)}"><h2>{esc(title)}</h2>{body}</section>'


def figure(caption: str, svg: str | None, missing: str) -> str:
    """A captioned inline SVG, or a note saying what was not recorded."""
    inner = svg if svg else f'<p class="note">{esc(missing)}</p>'
    return f"<figure><figcaption>{esc(caption)}</figcaption>{inner}</figure>"


def page(title: str, subtitle: str, body: str) -> str:
    """The whole self-contained document: inline CSS, no scripts, no external resources."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><main>{body}</main>"
            "<footer>generated by sitebench report &middot; self-contained: no network needed to view</footer>"
            "</body></html>\n")
