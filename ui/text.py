"""Text from users, files and links shown as text: never read as Markdown or HTML."""

import html
import re

import numpy as np

# every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped one is
# shown as itself: that turns off emphasis, links and images, headings, lists, tables, HTML tags,
# Streamlit's :color[...] and :material/...: directives, and LaTeX ($)
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns bare addresses into links after escapes are resolved; an invisible word joiner (U+2060)
# after the scheme, "www" or "@" keeps them text
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|www|xmpp)(?=[:.])|@(?=\S))")


def plain(text: object) -> str:
    """The text escaped so that st.markdown, st.caption, st.info, st.toast … show it literally."""
    escaped = _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub("\\1\u2060", str(text)))
    # line breaks would start new Markdown blocks (a heading, a list); show them as spaces
    return " ".join(escaped.splitlines()) if "\n" in escaped or "\r" in escaped else escaped


def chart_text(text: object) -> str:
    """Text for a plotly label, legend or hover, shown literally: plotly reads a few HTML tags in text
    (<a href>, <b>, <span style>, …) but decodes entities, so escaped tags show as written; a line
    break (<br>) stays one, which can do no harm."""
    return html.escape(str(text), quote=False).replace("&lt;br&gt;", "<br>")


_TRACE_TEXT = ("x", "y", "text", "hovertext", "customdata", "labels", "ids", "name", "legendgroup")


def chart_data_as_text(fig) -> None:
    """Escape every string in the traces' data of a plotly figure (categories, names, hover data
    such as adverse-event terms, sites, channels or patient IDs from a file) with chart_text."""
    for trace in fig.data:
        for attribute in _TRACE_TEXT:
            value = getattr(trace, attribute, None) if attribute in trace else None
            escaped = _escaped(value)
            if escaped is not value:
                trace[attribute] = escaped


def _escaped(value: object) -> object:
    """The value with its strings escaped; the same object when it holds none that need it."""
    if isinstance(value, str):
        return chart_text(value) if any(c in value for c in "<>&") else value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ("O", "U", "S"):
            return value
        flat = [_escaped(v) for v in value.ravel().tolist()]
        if all(a is b for a, b in zip(flat, value.ravel().tolist())):
            return value
        return np.array(flat, dtype=object).reshape(value.shape)
    if isinstance(value, (list, tuple)):
        items = [_escaped(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else type(value)(items)
    return value
