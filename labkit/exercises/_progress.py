"""Progress: the last verdict of every exercise, per chapter."""

import html
from dataclasses import dataclass

from . import _core
from ._base import FAILED, NOT_ATTEMPTED, PASSED

_STATUS = {}          # id -> last status in this kernel
_HINTS_SHOWN = {}     # id -> number of hints shown so far


def record(exercise_id, status):
    """Remember the verdict of a check."""
    _STATUS[exercise_id] = status


@dataclass
class Progress:
    """Per-chapter status of every exercise in this kernel: ``{chapter: {id: status}}``."""
    chapters: dict

    def counts(self, chapter=None):
        statuses = [s for ch, d in self.chapters.items() if chapter is None or ch == _core._chapter_key(chapter)
                    for s in d.values()]
        return {k: statuses.count(k) for k in (PASSED, FAILED, NOT_ATTEMPTED)}

    def __str__(self):
        lines = []
        for ch, items in self.chapters.items():
            c = {k: list(items.values()).count(k) for k in (PASSED, FAILED, NOT_ATTEMPTED)}
            lines.append(f"Chapter {ch}: {c[PASSED]}/{len(items)} passed")
            for i, s in items.items():
                lines.append(f"  {_SYMBOL[s]} {i:<32} {_core._REGISTRY[i].title}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = []
        for ch, items in self.chapters.items():
            done = list(items.values()).count(PASSED)
            rows.append(f'<tr><th colspan="3" style="text-align:left">Chapter {ch} — {done}/{len(items)} passed</th></tr>')
            for i, s in items.items():
                rows.append(f"<tr><td>{_SYMBOL[s]}</td><td><code>{html.escape(i)}</code></td>"
                            f"<td style='text-align:left'>{html.escape(_core._REGISTRY[i].title)}</td></tr>")
        return '<table class="labkit-progress">' + "".join(rows) + "</table>"

    def __repr__(self):
        return str(self)


_SYMBOL = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⬜"}


def progress(chapter=None):
    """Which exercises passed, failed or were not attempted in this kernel, per chapter."""
    key = _core._chapter_key(chapter)
    chapters = {}
    for i in _core.ids():
        ex = _core._REGISTRY[i]
        if key is None or ex.chapter == key:
            chapters.setdefault(ex.chapter, {})[i] = _STATUS.get(i, NOT_ATTEMPTED)
    return Progress(chapters)


def reset():
    """Forget all check results and hints shown in this kernel."""
    _STATUS.clear()
    _HINTS_SHOWN.clear()
