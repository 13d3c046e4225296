"""Inspection reports: an inspection (collector/inspections/model.py) as HTML and PDF, in Chinese or English.

    view.py     every figure formatted and every word in the report's language
    i18n.py     the words (zh, en), numbers, times, durations
    charts.py   trend charts as plain SVG paths; summary charts with matplotlib
    render.py   Jinja2 templates (templates/) → HTML (web) and PDF (WeasyPrint, print.css)
    fonts.py    the CJK font (WenQuanYi Micro Hei) every report is set in
"""
