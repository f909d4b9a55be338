"""Reading the figures a page shows: the ``data-*`` attributes the monitoring templates put on them."""

from __future__ import annotations

from html.parser import HTMLParser


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.attrs_by_key: list[dict[str, str]] = []
        self.namespace: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-namespace" in found:
            self.namespace = found["data-namespace"]
            self.rows.setdefault(self.namespace, {})
        if "data-column" in found and self.namespace is not None:
            self.rows[self.namespace][found["data-column"]] = found.get("data-value", "")
        if any(k.startswith("data-") for k in found):
            self.attrs_by_key.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.namespace = None


def table_values(html: str) -> dict[str, dict[str, float | None]]:
    """``{namespace: {column: value}}`` from every ``tr[data-namespace] [data-column][data-value]``."""
    parser = _Cells()
    parser.feed(html)
    return {
        ns: {column: (float(raw) if raw else None) for column, raw in columns.items()}
        for ns, columns in parser.rows.items()
    }


def elements(html: str, attribute: str) -> list[dict[str, str]]:
    """The attributes of every element that has ``attribute``."""
    parser = _Cells()
    parser.feed(html)
    return [attrs for attrs in parser.attrs_by_key if attribute in attrs]


def evaluated_at(html: str) -> float:
    found = elements(html, "data-evaluated-at")
    assert found, "the page does not say when its figures were evaluated"
    return float(found[0]["data-evaluated-at"])
