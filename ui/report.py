"""A self-contained HTML report of every page's figures under the current filters."""

import datetime as dt
import html

import plotly.io as pio
from plotly.offline import get_plotlyjs

from ui.settings import APP_VERSION

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; }
.meta, .caption, footer { color: #555; font-size: 0.9rem; }
.figure { margin: 1.2rem 0 2rem; page-break-inside: avoid; break-inside: avoid; }
table.table { border-collapse: collapse; font-size: 0.9rem; margin: .5rem 0; }
table.table th, table.table td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: left; }
footer { margin-top: 3rem; border-top: 1px solid #ccc; padding-top: .6rem; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-before: always; }
               h2:first-of-type { page-break-before: avoid; } }
"""


def build(sections: list[dict], filters_text: str, dataset_version: str, selected: str, viewer: bool) -> str:
    """The report as one HTML document; plotly.js is embedded once, so it works offline."""
    today = dt.date.today().isoformat()
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Rituximab Cohort Explorer report</title>",
        f"<style>{CSS}</style>",
        "<script type='text/javascript'>", get_plotlyjs(), "</script></head><body>",
        "<h1>Rituximab Cohort Explorer — report</h1>",
        (f"<p class='meta'>{html.escape(selected)} · filters: {html.escape(filters_text)}"
         f"{' · shared (viewer) mode' if viewer else ''}</p>"),
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section['title'])}</h2>")
        if section.get("message") or not section["figures"]:
            parts.append(f"<p class='caption'>{html.escape(section.get('message') or 'No figures.')}</p>")
        for item in section["figures"]:
            if item.get("figure") is not None:
                body = pio.to_html(
                    item["figure"], include_plotlyjs=False, full_html=False,
                    config={"displaylogo": False, "responsive": True},
                )
            else:
                body = item["table"].to_html(index=False, border=0, classes="table", na_rep="")
            parts.append(
                f"<div class='figure'><h3>{html.escape(item['name'])}</h3>{body}"
                f"<p class='caption'>{html.escape(item['caption'])}</p></div>"
            )
    parts.append(
        f"<footer>Dataset version {html.escape(dataset_version)} · filters: {html.escape(filters_text)} · "
        f"Rituximab Cohort Explorer {APP_VERSION} · {today}</footer></body></html>"
    )
    return "".join(parts)
