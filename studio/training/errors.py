"""Why a run cannot start: one error for every check before training, torch-free so the
checks (``preflight``) can raise it without loading torch."""

from __future__ import annotations

from studio.graph import Problem


class TrainingSetupError(RuntimeError):
    """The run cannot start; ``problems`` lists why, each naming its node, key or file."""

    def __init__(self, problems: list[Problem | str], headline: str = "cannot train"):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{headline}:\n{lines}")
