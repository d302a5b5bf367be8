"""Rendering executed notebooks to safe, self-contained HTML.

The report HTML shows outputs only: no code cells, no prompts, no parameters cell.  Every
output is made safe before rendering: HTML outputs (tables) go through :func:`clean_html`
(nh3: keeps tables, headings, text markup and ``data:image/png`` images; drops scripts,
event handlers, styles and links to other sites), Markdown outputs are rendered to HTML and
cleaned the same way, JavaScript/widget/SVG outputs are dropped and text outputs are
escaped by nbconvert.  The page loads no scripts from the network (no require.js, MathJax or
Mermaid), so it opens offline and a hostile rep name cannot run anything.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import nbformat
import nh3
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

__all__ = ["ALLOWED_TAGS", "clean_html", "index_html", "render_html"]

#: Tags an output may keep.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "*": {"class", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "table": {"border"},
}
#: Output types kept; everything else (JavaScript, widgets, SVG, LaTeX, ...) is dropped.
_KEPT_MIME = ("image/png", "image/jpeg", "text/html", "text/plain")

_FIGURE_IMG = re.compile(
    r'<img alt="Figure" (src="data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=]*")/?>')

_TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="Figure">
</div>
{%- endblock data_png -%}
{%- block data_jpg scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/jpeg;base64,{{ output.data['image/jpeg'] | escape_html }}" alt="Figure">
</div>
{%- endblock data_jpg -%}
{%- block html_head_css -%}
<style type="text/css">
body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 24px 32px;
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.jp-RenderedHTMLCommon { font-size: 15px; line-height: 1.5; }
.jp-RenderedHTMLCommon h1 { font-size: 28px; margin-top: 0.2em; }
.jp-RenderedHTMLCommon h2 { font-size: 21px; border-bottom: 1px solid #d0d7de;
  padding-bottom: 4px; margin-top: 1.4em; }
.jp-RenderedHTMLCommon table { border-collapse: collapse; margin: 8px 0 16px 0;
  font-size: 13px; font-variant-numeric: tabular-nums; }
.jp-RenderedHTMLCommon th { background: #f3f5f8; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 4px 10px;
  border-bottom: 1px solid #e3e7ec; }
.jp-RenderedHTMLCommon h3 { font-size: 17px; margin-top: 1.1em; }
.jp-RenderedHTMLCommon table.spmkit-table td,
.jp-RenderedHTMLCommon table.spmkit-table th { text-align: left; }
.jp-RenderedHTMLCommon table.spmkit-table td.num { text-align: right; }
.jp-RenderedHTMLCommon table.spmkit-table tbody th { font-weight: 600; background: #f8f9fb; }
.jp-RenderedImage img { max-width: 100%; }
.jp-OutputArea-prompt { display: none; }
</style>
{%- endblock html_head_css -%}
"""


def clean_html(fragment: str) -> str:
    """An HTML fragment with only harmless markup left.

    Keeps tables, headings, lists, text markup, links (``http``/``https``/``mailto``) and
    images whose ``src`` is ``data:image/png`` or ``data:image/jpeg``; drops ``script``,
    ``style``, ``iframe``, event handlers (``onerror=``...), inline styles and every other
    URL scheme.  Text inside dropped tags is escaped, never run.
    """
    cleaned = nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
        attribute_filter=_attribute_filter,
    )
    return cleaned


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("src", "href") and value.strip().lower().startswith("data:"):
        ok = tag == "img" and value.strip().lower().startswith(
            ("data:image/png;", "data:image/jpeg;"))
        return value if ok else None
    return value


class SanitizeOutputs(Preprocessor):
    """Make every output of a notebook safe to render as HTML (see the module docstring)."""

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if cell.cell_type == "markdown":
            cell.source = clean_html(markdown2html_mistune(cell.source))
            return cell, resources
        if cell.cell_type != "code":
            return cell, resources
        kept = []
        for output in cell.get("outputs", []):
            if output.output_type in ("display_data", "execute_result"):
                data = dict(output.get("data", {}))
                if "text/markdown" in data:
                    data["text/html"] = markdown2html_mistune(str(data.pop("text/markdown")))
                data = {k: v for k, v in data.items() if k in _KEPT_MIME}
                if "text/html" in data:
                    data["text/html"] = clean_html(str(data["text/html"]))
                if not data:
                    continue
                output.data = nbformat.from_dict(data)
                output.metadata = nbformat.from_dict({})
            kept.append(output)
        cell.outputs = kept
        return cell, resources


def render_html(nb: nbformat.NotebookNode, *, title: str | None = None,
                remove_tags: Sequence[str] = ("parameters", "injected-parameters")) -> str:
    """The executed notebook ``nb`` as one self-contained, sanitized HTML page.

    Input cells and prompts are excluded, cells tagged ``remove_tags`` are removed
    entirely, and outputs are cleaned by :class:`SanitizeOutputs`.  ``nb`` is not modified.
    """
    nb = nbformat.from_dict(nb)  # a deep copy
    if title is not None:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"spmkit_report.html.j2": _TEMPLATE})],
        template_file="spmkit_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    remove = TagRemovePreprocessor(remove_cell_tags=set(remove_tags), enabled=True)
    exporter.register_preprocessor(remove, enabled=True)
    exporter.register_preprocessor(SanitizeOutputs(enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    # nbconvert re-serializes with attributes sorted (alt first); put src first, as written
    return _FIGURE_IMG.sub(r'<img \1 alt="Figure"/>', body)


def index_html(title: str, rows: Sequence[dict[str, str]]) -> str:
    """A small self-contained page listing reports: name, status, link and error text.

    Parameters
    ----------
    title
        Page heading.
    rows
        One dict per report with ``name``, ``status`` (``"ok"`` or ``"failed"``), ``link``
        (relative path to the report's HTML, empty when it failed) and ``error`` (text,
        empty when it succeeded).  Every value is escaped.
    """
    esc = html.escape
    lines = []
    for row in rows:
        name = esc(row.get("name", ""))
        status = row.get("status", "")
        link = row.get("link", "")
        cell = f'<a href="{esc(link, quote=True)}">{name}</a>' if link else name
        error = row.get("error", "")
        err = f"<pre>{esc(error)}</pre>" if error else ""
        lines.append(f'<tr class="{esc(status)}"><td>{cell}</td>'
                     f'<td class="status">{esc(status)}</td><td>{err}</td></tr>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>"
        "body{font-family:-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:32px;}"
        "table{border-collapse:collapse}td,th{padding:6px 12px;border-bottom:1px solid #ddd;"
        "text-align:left;vertical-align:top}tr.failed .status{color:#b00020;font-weight:bold}"
        "tr.ok .status{color:#1a7f37}pre{margin:0;white-space:pre-wrap;max-width:60em}"
        f"</style></head><body><h1>{esc(title)}</h1>"
        "<table><thead><tr><th>Report</th><th>Status</th><th>Error</th></tr></thead><tbody>"
        + "".join(lines) + "</tbody></table></body></html>\n"
    )
