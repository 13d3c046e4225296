"""An inspection rendered: HTML for reading on screen, PDF (WeasyPrint) for mailing and printing.

Both come from one Jinja2 template and one view (`view.py`); only the
stylesheet differs (print.css: A4 pages, running header, page numbers,
each device on its own page; web.css: one page in a browser). The PDF is
set in WenQuanYi Micro Hei alone (`fonts.py`), embedded as one subset.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from collector.inspections.model import Inspection
from collector.reports import fonts
from collector.reports.view import View

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class Rendered:
    lang: str
    html: str             # the web version
    pdf: bytes
    pages: int
    timings: dict[str, float] = field(default_factory=dict)   # view (incl. charts), html, pdf_layout, pdf_write


def _css_string(value: object) -> str:
    """Text safe inside a CSS string in double quotes."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=jinja2.select_autoescape(["j2", "html"]),
                             trim_blocks=True, lstrip_blocks=True)
    return env


def _stylesheet(medium: str, values: dict[str, object]) -> str:
    """report.css and the medium's own sheet, whose {{ … }} are filled with CSS-escaped `values`."""
    common = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    special = jinja2.Template((TEMPLATES / f"{medium}.css").read_text(encoding="utf-8"))
    return common + "\n" + special.render({"font_face": "", **{k: _css_string(v) for k, v in values.items()}})


def html(context: dict[str, object], medium: str) -> str:
    css_values = {"customer": context["customer"], "number": context["number"],
                  "footer": f"{context['provider']} · {context['title']} · {context['number']}"}
    sheet = _stylesheet(medium, css_values)
    if medium == "print" and fonts.registered() is None:
        face = f'@font-face {{ font-family: "{fonts.FAMILY}"; src: url("{_css_string(fonts.cjk_font().as_uri())}"); }}'
        sheet = face + "\n" + sheet
    template = environment().get_template("report.html.j2")
    return template.render(**context, medium=medium, css=Markup(sheet))


def pdf(document_html: str, timings: dict[str, float] | None = None) -> tuple[bytes, int]:
    """The PDF of a print-medium HTML, and its page count."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fonts.cjk_font()   # FontMissing before any work, with what to install
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    clock = time.perf_counter()
    font_config = FontConfiguration()
    document = weasyprint.HTML(string=document_html, base_url=str(TEMPLATES)).render(font_config=font_config)
    layout = time.perf_counter()
    data = document.write_pdf()
    if timings is not None:
        timings["pdf_layout"] = layout - clock
        timings["pdf_write"] = time.perf_counter() - layout
    return data, len(document.pages)


def render(inspection: Inspection, lang: str = "zh") -> Rendered:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    context = View(inspection, lang).context()
    timings["view"] = time.perf_counter() - clock
    clock = time.perf_counter()
    web = html(context, "web")
    printable = html(context, "print")
    timings["html"] = time.perf_counter() - clock
    data, pages = pdf(printable, timings)
    return Rendered(lang, web, data, pages, timings)
