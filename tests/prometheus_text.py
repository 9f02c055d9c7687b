"""Prometheus's text format as a scraper reads it: enough to check figures."""

import re

import httpx

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class Samples(list[tuple[str, dict[str, str], float]]):
    def labels(self) -> dict[str, set[str]]:
        """Each metric's name, with the label names its samples carry."""
        found: dict[str, set[str]] = {}
        for name, labels, _ in self:
            found.setdefault(name, set()).update(labels)
        return found

    def total(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include ``labels``."""
        return sum(
            value
            for sample, found, value in self
            if sample == name and labels.items() <= found.items()
        )


def parse(text: str) -> Samples:
    samples = Samples()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not Prometheus's text format: {line!r}"
        labels = dict(_LABEL.findall(match["labels"] or ""))
        samples.append((match["name"], labels, float(match["value"])))
    return samples


async def scrape(address: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"http://{address}/metrics")
    response.raise_for_status()
    return parse(response.text)
