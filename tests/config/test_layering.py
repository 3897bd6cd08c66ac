"""The one direction of dependencies between apps (docs/architecture.md §1), where import-linter
cannot look: templates and URL names.

``lint-imports`` (pyproject's ``[tool.importlinter]``) checks Python imports. A lower app
can still depend on a higher one without importing it: its templates ``{% load %}`` the
higher app's tags, ``{% include %}`` its templates or ``{% url %}`` its views, and its code
``reverse()``s their names. These tests read every template of an app's folder and every
module of the app, and find who owns each URL name from the view it resolves to.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.template.backends.django import get_installed_libraries
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. checklists and automations do not exist yet; they are placed already.
LAYERS = ["communities", "members", "activities", "checklists", "analytics", "automations"]
URL_FUNCTIONS = {"reverse", "reverse_lazy", "redirect", "resolve_url"}

TAG = re.compile(r"{%\s*(load|url|include|extends)\s+(.*?)\s*%}", re.DOTALL)
QUOTED = re.compile(r"""^(["'])(.+?)\1""")


def _app_of_module(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in LAYERS else None


def _url_owners() -> dict[str, str | None]:
    """Every URL name (with its namespaces) → the app whose view it is (None: config or
    Django's own, which any app may name)."""
    owners: dict[str, str | None] = {}

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                callback = pattern.callback
                module = getattr(callback, "view_class", callback).__module__
                owners.setdefault(f"{namespace}{pattern.name}", _app_of_module(module))

    walk(get_resolver().url_patterns, "")
    return owners


def _higher(app: str, other: str | None) -> bool:
    return other is not None and LAYERS.index(other) > LAYERS.index(app)


def _template_references(text: str) -> list[tuple[str, str]]:
    """(kind, what) for each ``load`` library, ``url`` name and included/extended template
    named by a literal in the template text."""
    found = []
    for kind, arguments in TAG.findall(text):
        if kind == "load":
            words = arguments.split()
            libraries = words[words.index("from") + 1 :] if "from" in words else words
            found.extend(("load", library) for library in libraries)
        else:
            literal = QUOTED.match(arguments)
            if literal:
                found.append((kind, literal.group(2)))
    return found


def _python_url_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        first = node.args[0]
        if (
            name in URL_FUNCTIONS
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and "/" not in first.value
        ):
            names.append(first.value)
    return names


def _existing_apps() -> list[str]:
    return [app for app in LAYERS if (ROOT / app / "apps.py").exists()]


def _template_files(app: str) -> list[Path]:
    folders = [ROOT / "templates" / app, ROOT / app / "templates" / app]
    return sorted(path for folder in folders if folder.exists() for path in folder.rglob("*"))


def _higher_references(app: str, text: str, owners: dict, libraries: dict) -> list[str]:
    """What in a template of ``app`` belongs to a higher app."""
    problems = []
    for kind, what in _template_references(text):
        if kind == "load":
            other = _app_of_module(libraries.get(what, ""))
        elif kind == "url":
            other = owners.get(what)
        else:  # a template path: its first folder is its app's
            other = _app_of_module(what.split("/")[0]) if "/" in what else None
        if _higher(app, other):
            problems.append(f"{{% {kind} {what} %}} is {other}'s")
    return problems


def _violations_in_templates(app: str, owners: dict, libraries: dict) -> list[str]:
    problems = []
    for path in _template_files(app):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for problem in _higher_references(app, text, owners, libraries):
                problems.append(f"{path.relative_to(ROOT)}: {problem}")
    return problems


def _violations_in_code(app: str, owners: dict) -> list[str]:
    problems = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in _python_url_names(path):
            other = owners.get(name)
            if _higher(app, other):
                problems.append(f"{path.relative_to(ROOT)}: URL name {name!r} is {other}'s")
    return problems


@pytest.mark.parametrize("app", _existing_apps())
def test_an_apps_templates_never_name_a_higher_app(app):
    assert _violations_in_templates(app, _url_owners(), get_installed_libraries()) == []


@pytest.mark.parametrize("app", _existing_apps())
def test_an_apps_code_never_reverses_a_higher_apps_url(app):
    assert _violations_in_code(app, _url_owners()) == []


def test_the_checks_see_what_they_look_for():
    """The scanners find each kind of reference (else the tests above prove nothing)."""
    owners = _url_owners()
    assert owners["activities:imports"] == "activities"
    assert owners["analytics:community"] == "analytics"
    assert owners["communities:detail"] == "communities"
    assert owners["logout"] is None  # Django's own view (login is communities': role landing)
    assert _app_of_module(get_installed_libraries()["partials"]) is None
    text = (
        "{% load i18n activities %}{% load x from partials %}"
        "{% url 'activities:imports' %}{% url \"members:list\" %}{% url name %}"
        "{% include \"analytics/x.html\" with a=1 %}{% extends 'base.html' %}"
    )
    assert _template_references(text) == [
        ("load", "i18n"),
        ("load", "activities"),
        ("load", "partials"),
        ("url", "activities:imports"),
        ("url", "members:list"),
        ("include", "analytics/x.html"),
        ("extends", "base.html"),
    ]
    assert _higher("communities", "activities")
    assert not _higher("analytics", "communities")
    assert not _higher("communities", None)
    libraries = {"calendar": "activities.templatetags.calendar", "i18n": "django.templatetags.i18n"}
    page = "{% load i18n calendar %}{% url 'analytics:community' c %}{% include 'members/x.html' %}"
    assert _higher_references("communities", page, owners, libraries) == [
        "{% load calendar %} is activities's",
        "{% url analytics:community %} is analytics's",
        "{% include members/x.html %} is members's",
    ]
    assert _higher_references("analytics", page, owners, libraries) == []
    code = ROOT / "tests" / "config" / "test_layering.py"
    assert "analytics:community" in _python_url_names(code)  # the reverse() below
    assert reverse("analytics:community", args=["x"])
