"""The report of the planted site as PDF and HTML: valid, multi-page, Chinese (and English) text, every glyph embedded.

Checked with Debian's poppler-utils, not with our own code: `pdfinfo` for the
pages, `pdftotext` for the words and figures, `pdffonts` for the embedded
fonts, `pdftoppm` to rasterise every page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine

from collector.inspections import period
from collector.inspections.build import Scope, build
from collector.inspections.model import Inspection
from collector.reports import fonts
from collector.reports.render import Rendered, render
from collector.store import database
from tests.collector.inspections import site

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs Debian poppler-utils")


@pytest.fixture(scope="module")
def inspection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inspection]:
    engine: Engine = database.open_store(f"sqlite:///{tmp_path_factory.mktemp('report') / 'vigil.db'}")
    site.populate(engine)
    yield build(engine, Scope(site.CUSTOMER, provider="某某运维服务有限公司"), period.parse("2026-11", site.TZ, site.NOW),
                "VGL-202611-00001", now_ms=site.NOW)
    engine.dispose()


@pytest.fixture(scope="module")
def chinese(inspection: Inspection) -> Rendered:
    return render(inspection, "zh")


@pytest.fixture(scope="module")
def english(inspection: Inspection) -> Rendered:
    return render(inspection, "en")


@pytest.fixture(scope="module")
def pdf_file(chinese: Rendered, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report-zh.pdf"
    path.write_bytes(chinese.pdf)
    return path


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _text(path: Path) -> str:
    return _run("pdftotext", "-layout", str(path), "-")


@cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTCollection

    return frozenset(TTCollection(str(fonts.cjk_font())).fonts[0].getBestCmap())


def test_the_pdf_is_valid_and_multi_page(chinese: Rendered, pdf_file: Path) -> None:
    assert chinese.pdf.startswith(b"%PDF-") and chinese.pdf.rstrip().endswith(b"%%EOF")
    info = _run("pdfinfo", str(pdf_file))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert pages == chinese.pages >= 8
    assert "Page size:      595.276 x 841.89 pts (A4)" in info or "A4" in info


def test_the_chinese_report_says_what_was_found_with_the_hand_counted_figures(pdf_file: Path) -> None:
    text = _text(pdf_file)
    for words in ("设备巡检报告", "客户A", "上海机房", "北京机房", "某某运维服务有限公司", "VGL-202611-00001", "2026-11-01 – 2026-11-30",
                  "执行摘要", "服务摘要", "设备巡检详情", "容量展望", "附录", "总体健康评分", "计算方法",
                  "设备不可达", "CPU 使用率过高", "文件系统空间不足", "文件系统即将写满", "UPS 电池供电中", "主机重启",
                  "查找占用 CPU 的进程", "处理建议", "分析", "依据"):
        assert words in text, words
    assert "59.5" in text                                  # overall score: (61 + 37 + 40 + 100) / 4
    assert "99.65%" in text                                # core-sw: 43,050 of 43,200 polls
    assert "50.0%" in text                                 # response and plan compliance: 2 met of 4
    assert "异常时长 2小时30分" in text                     # core-sw unreachable, hours 300–302½
    assert "峰值 99%" in text and "超限时长 103小时" in text   # web-1 CPU peak; /data above 90 % for 103 hours
    assert "1小时30分" in text                              # mean response of the stopped clocks: (30 + 180 + 60) / 3 min


def test_the_english_report(english: Rendered, tmp_path: Path) -> None:
    path = tmp_path / "en.pdf"
    path.write_bytes(english.pdf)
    text = _text(path)
    for words in ("Inspection report", "Executive summary", "Service summary", "Capacity outlook", "Device unreachable",
                  "How it is computed", "59.5", "2 h 30 min", "Remediation"):
        assert words in text, words
    rest = re.sub(r"\s", "", text)
    for name in ("客户A", "上海机房", "北京机房", "某某运维服务有限公司"):
        rest = rest.replace(name, "")
    assert not re.search(r"[\u4e00-\u9fff]", rest)        # only the customer's and provider's own names stay Chinese


def test_every_font_is_embedded_and_every_character_has_its_glyph(pdf_file: Path) -> None:
    rows = _run("pdffonts", str(pdf_file)).splitlines()[2:]
    assert rows
    for row in rows:
        assert "WenQuanYi" in row.split()[0], row          # one family: nothing fell back to another font
        assert row.split()[-5:-2] == ["yes", "yes", "yes"], row   # emb, sub, uni
    text = _text(pdf_file)
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in _cmap()})
    assert not missing, f"characters the font has no glyph for (boxes in the PDF): {missing}"


def test_every_page_rasterises(pdf_file: Path, chinese: Rendered, tmp_path: Path) -> None:
    from PIL import Image

    done = subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf_file), str(tmp_path / "page")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == chinese.pages
    cover = Image.open(images[0]).convert("L")
    assert cover.getextrema()[0] < 100                      # not a blank page: the cover's dark band and title


def test_the_web_version_is_one_html_page_with_the_same_content(chinese: Rendered, english: Rendered) -> None:
    html = chinese.html
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html and 'lang="en"' in english.html
    assert html.count('<article class="device') == 4
    assert html.count("data:image/svg+xml;base64,") >= 4 + 2  # a trend chart per device with data, the summary charts
    assert "设备不可达" in html and "@page" not in html       # no print rules in the web version
    assert "file://" not in html                             # nothing that only exists on the collector's disk


def test_a_missing_cjk_font_stops_rendering_with_what_to_install(inspection: Inspection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "registered", lambda: None)
    monkeypatch.setattr(fonts, "KNOWN_PATHS", ())
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing, match="apt-get install fonts-wqy-microhei"):
            render(inspection, "zh")
    finally:
        fonts.cjk_font.cache_clear()
