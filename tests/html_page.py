"""A rendered page as a small element tree (stdlib only): enough for tests to follow ids, labels,
ARIA attributes and ancestors without a browser."""

from __future__ import annotations

from html.parser import HTMLParser


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.text = ""

    def text_content(self) -> str:
        return self.text + "".join(child.text_content() for child in self.children)


class Page(HTMLParser):
    """The rendered page as a small tree: enough to follow ids, labels and ancestors."""

    VOID = {"input", "br", "meta", "link", "img", "hr", "source", "col", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.elements: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        self.elements.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text += data

    def by_id(self, element_id: str) -> Element:
        matches = [element for element in self.elements if element.attrs.get("id") == element_id]
        assert len(matches) == 1, f"id {element_id!r} appears {len(matches)} times"
        return matches[0]

    def all(self, tag: str) -> list[Element]:
        return [element for element in self.elements if element.tag == tag]

    def label_for(self, element_id: str) -> str:
        labels = [label for label in self.all("label") if label.attrs.get("for") == element_id]
        assert len(labels) == 1
        return labels[0].text_content()
