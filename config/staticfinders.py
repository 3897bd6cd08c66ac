"""Serve plotly.min.js from the installed plotly package under ``vendor/plotly/``.

Vendoring a copy into static/ would let the JavaScript drift from the Python package;
exposing the whole package_data folder would also publish plotly's sample data sets.
"""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor/plotly"
FILES = ("plotly.min.js",)


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = Path(plotly.__file__).resolve().parent / "package_data"
        self.storage = FileSystemStorage(location=self.root)
        self.storage.prefix = PREFIX

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        for name in FILES:
            if path == f"{PREFIX}/{name}":
                match = str(self.root / name)
                return [match] if find_all else match
        return [] if find_all else None

    def list(self, ignore_patterns):
        for name in FILES:
            yield name, self.storage
