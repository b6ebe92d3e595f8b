"""Reading a page's form the way a browser submits it (tests post what the page really sends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class PageForm:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> the value the page gives it
    typed: list[str] = field(default_factory=list)  # fields a person types into (not hidden)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[PageForm] = []
        self.current: PageForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            self.current = PageForm(action=values.get("action", ""))
            self.forms.append(self.current)
        elif self.current is not None and tag in {"input", "textarea", "select"} and values.get("name"):
            self.current.fields[values["name"]] = values.get("value", "")
            if values.get("type", "text") not in {"hidden", "submit", "checkbox", "radio"}:
                self.current.typed.append(values["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def own_post_form(html: str) -> PageForm:
    """The page's own POST form (the first one without an ``action``, which posts back to the page;
    the header's elder-mode and logout forms have one)."""
    parser = _FormParser()
    parser.feed(html)
    return next(form for form in parser.forms if not form.action)


class _ErrorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, list[str]] = {}
        self.field = ""
        self.capturing: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "label" and values.get("for", "").startswith("id_"):
            self.field = values["for"][3:]
        elif tag == "p" and "field-error" in values.get("class", "").split():
            self.capturing = self.field
            self.errors.setdefault(self.field, []).append("")

    def handle_data(self, data: str) -> None:
        if self.capturing is not None:
            self.errors[self.capturing][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.capturing = None


def field_errors(html: str) -> dict[str, list[str]]:
    """The errors shown under each field of a page's form (``core/_form_fields.html``), by field name."""
    parser = _ErrorParser()
    parser.feed(html)
    return parser.errors
