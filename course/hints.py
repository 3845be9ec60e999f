"""Which hints of an exercise a student sees: the next one, or the one asked for by number.

`course hint softmax` shows the next hint not yet seen (all of them once they are used
up); `course hint softmax 3` shows hint 3, as a check report's "hints 2, 3 are about the
failed cases" suggests. Every hint shown is recorded in the progress store. The CLI,
`course.hint()` in a notebook and the tests all go through `take_hints`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from course.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Exercise
    from course.progress.store import ProgressStore


@dataclass(frozen=True)
class Hints:
    """The hints shown by one request: (number, Markdown text) pairs, numbered from 1."""

    exercise: str
    total: int
    shown: tuple[tuple[int, str], ...]
    asked: int | None = None  # the number asked for; None: "the next one"

    @property
    def all_shown(self) -> bool:
        """True when the request showed every hint (the next one was asked for after the last)."""
        return self.asked is None and len(self.shown) == self.total and self.total > 1

    @property
    def next_number(self) -> int | None:
        """The number `course hint EXERCISE` shows next time (None once all were seen)."""
        if self.asked is not None or self.all_shown or not self.shown:
            return None
        number = self.shown[-1][0] + 1
        return number if number <= self.total else None

    def heading(self) -> str:
        if not self.shown:
            return f"{self.exercise} has no hints"
        if self.all_shown:
            return f"All {self.total} hints of {self.exercise}:"
        return f"Hint {self.shown[0][0]} of {self.total}"

    def footer(self) -> str:
        if self.next_number is not None:
            from course.paths import command

            return f"(`{command('hint ' + self.exercise)}` again for hint {self.next_number}, " \
                   f"or any one by number: `{command('hint ' + self.exercise)} N`)"
        return ""

    def markdown(self) -> str:
        """The hints as one Markdown text (notebooks show it as such)."""
        if self.all_shown:
            body = "\n\n".join(f"{number}. {text}" for number, text in self.shown)
        else:
            body = "\n\n".join(text for _, text in self.shown)
        parts = [f"**{self.heading()}**", body]
        if self.footer():
            parts.append(f"*{self.footer()}*")
        return "\n\n".join(part for part in parts if part)

    def render(self, *, width: int = 80, color: bool = False) -> str:
        """As `course hint` prints it."""
        from course.reading import render_markdown

        return render_markdown(self.markdown(), width=width, color=color) + "\n"

    def __str__(self) -> str:
        return self.render()

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return self.markdown()


def take_hints(exercise: "Exercise", store: "ProgressStore | None", number: int | None = None) -> Hints:
    """The hint `number` (1-based), or the next one not seen; recorded as shown in `store`.

    After the last hint, asking for the next one shows all of them (and records nothing new).
    """
    total = len(exercise.hints)
    if number is not None:
        if total == 0:
            raise UsageError(f"{exercise.id} has no hints")
        if not 1 <= number <= total:
            raise UsageError(f"{exercise.id} has {total} hint{'s' if total != 1 else ''}: "
                             f"ask for 1{f' to {total}' if total > 1 else ''}, not {number}")
        if store is not None:
            store.record_hint(exercise.id, number - 1)
        return Hints(exercise.id, total, ((number, exercise.hints[number - 1]),), asked=number)
    index = store.next_hint_index(exercise.id) if store is not None else 0
    if index < total:
        if store is not None:
            store.record_hint(exercise.id, index)
        return Hints(exercise.id, total, ((index + 1, exercise.hints[index]),))
    return Hints(exercise.id, total, tuple(enumerate(exercise.hints, 1)))
