"""The letter error: a template or letter problem, with its L4xx finding code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from offerctl.core.errors import InputError
from offerctl.core.model import Finding


@dataclass
class LetterError(InputError):
    """A template or letter problem (exit 2). ``code`` is the L4xx finding code."""

    code: str = "L412"

    kind: ClassVar[str] = "letter"

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "finding": self.code}

    def finding(self, offer: str | None = None) -> Finding:
        return Finding(self.path or "letter_templates", self.line, self.code, self.message, offer=offer)

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.code})"
