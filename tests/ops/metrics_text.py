"""Reading a /metrics answer in tests: parsed with prometheus_client's own text parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """Samples of one /metrics body, by sample name and labels."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def samples(self, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
        out = []
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    out.append((sample.labels, sample.value))
        return out

    def value(self, name: str, **labels: str) -> float:
        """The sum of the matching samples (0 when none)."""
        return sum(value for _, value in self.samples(name, **labels))
