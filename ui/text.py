"""Text from users, files and links shown as text: never read as Markdown or HTML."""

import re

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
