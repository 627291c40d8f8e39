"""Self-check quizzes: a few multiple-choice questions at the end of each notebook, every choice
explained when it is picked.

In JupyterLab and on Binder a quiz is a widget (one set of radio buttons per question, and a line
under it that says whether the picked choice is right and why). Where no widget can run (the static
site, a plain-text console) it shows itself as a folded list of every choice with its explanation.
The questions of each notebook are in :file:`quizzes.json` beside this module (data, not code:
an instructor edits them there), loaded into :data:`QUIZZES` by the notebook's number; and
:func:`self_check` shows them: ``show.self_check("01b")``.

Example:
    >>> q = Question("Which thread calls next() on JAX?",
    ...              [("The main thread", "Keras's JAX loop pulls each batch."),
    ...               ("A tf.data thread", "JAX does not wrap it in tf.data.")], right=0)
    >>> box = Quiz([q])
    >>> box.pick(0, 1)
    'Not quite. JAX does not wrap it in tf.data.'
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import ipywidgets as widgets

__all__ = ["Question", "Quiz", "QUIZZES", "self_check"]


@dataclass(frozen=True)
class Question:
    """One question: its prompt, its choices as (text, why it is right or wrong), the right one.

    Example:
        >>> Question("2 + 2?", [("4", "Sum."), ("5", "One too many.")], right=0).answer
        '4'
    """

    prompt: str
    choices: list[tuple[str, str]]
    right: int

    def __post_init__(self) -> None:
        if len(self.choices) < 2 or not 0 <= self.right < len(self.choices):
            raise ValueError(f"{self.prompt!r}: need 2 or more choices and a right one among them")
        if any(not text.strip() or not why.strip() for text, why in self.choices):
            raise ValueError(f"{self.prompt!r}: every choice needs a text and an explanation")

    @property
    def answer(self) -> str:
        return self.choices[self.right][0]

    def feedback(self, picked: int) -> str:
        """What the learner reads after picking a choice: right or not, and why."""
        verdict = "Right." if picked == self.right else "Not quite."
        return f"{verdict} {self.choices[picked][1]}"


class Quiz(widgets.VBox):
    """Questions as radio buttons, each with a feedback line that explains the picked choice.

    Example:
        >>> box = Quiz([Question("Yes?", [("yes", "It is."), ("no", "It is not.")], right=0)])
        >>> box.buttons[0].value = 0
        >>> box.feedbacks[0].value
        '<b>Right.</b> It is.'
    """

    def __init__(self, questions: list[Question], title: str = "Check your understanding") -> None:
        self.questions, self.title = list(questions), title
        self.buttons = [
            widgets.RadioButtons(
                options=[(text, i) for i, (text, _) in enumerate(q.choices)],
                value=None,
                layout=widgets.Layout(width="max-content"),
            )
            for q in self.questions
        ]
        self.feedbacks = [widgets.HTML("<i>Pick a choice to see why it is right or not.</i>")]
        self.feedbacks += [widgets.HTML(self.feedbacks[0].value) for _ in self.questions[1:]]
        rows: list[widgets.Widget] = [widgets.HTML(f"<h4>{html.escape(title)}</h4>")]
        for n, (q, buttons, feedback) in enumerate(
            zip(self.questions, self.buttons, self.feedbacks)
        ):
            buttons.observe(lambda change, n=n: self._show(n, change["new"]), names="value")
            rows += [widgets.HTML(f"<b>{n + 1}. {html.escape(q.prompt)}</b>"), buttons, feedback]
        super().__init__(rows)

    def _show(self, n: int, picked: int | None) -> None:
        if picked is not None:
            verdict = "Right." if picked == self.questions[n].right else "Not quite."
            why = self.questions[n].choices[picked][1]
            self.feedbacks[n].value = f"<b>{verdict}</b> {html.escape(why)}"

    def pick(self, n: int, choice: int) -> str:
        """Pick choice ``choice`` of question ``n`` as a click does; returns the feedback."""
        self.buttons[n].value = choice
        return self.questions[n].feedback(choice)

    def html(self) -> str:
        """Every question with each choice folded over its explanation (the static pages)."""
        parts = [f'<div class="fitscope-quiz"><h4>{html.escape(self.title)}</h4>']
        for n, q in enumerate(self.questions):
            items = "".join(
                f"<li><details><summary>{html.escape(text)}</summary>"
                f"{html.escape(q.feedback(i))}</details></li>"
                for i, (text, _) in enumerate(q.choices)
            )
            parts.append(f"<p><b>{n + 1}. {html.escape(q.prompt)}</b></p><ul>{items}</ul>")
        return "".join(parts) + "</div>"

    def text(self) -> str:
        """The same as plain text: every choice with its explanation."""
        lines = [self.title]
        for n, q in enumerate(self.questions):
            lines.append(f"{n + 1}. {q.prompt}")
            lines += [f"   - {text}: {q.feedback(i)}" for i, (text, _) in enumerate(q.choices)]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data.update({"text/plain": self.text(), "text/html": self.html()})
        return data


def self_check(notebook: str) -> Quiz:
    """The quiz at the end of a notebook, by its number (``"00"``, ``"01"``, ``"01b"`` …).

    Example:
        >>> len(self_check("01b").questions) in (3, 4)
        True
    """
    if notebook not in QUIZZES:
        raise ValueError(f"no quiz for {notebook!r}; there are {', '.join(QUIZZES)}")
    return Quiz(QUIZZES[notebook])


def _spread(questions: list[Question]) -> list[Question]:
    """The same questions with their choices rotated, question by question, so that the right
    choice moves between positions and its place gives nothing away."""
    out = []
    for i, q in enumerate(questions):
        k = i % len(q.choices)
        choices = q.choices[k:] + q.choices[:k]
        out.append(Question(q.prompt, choices, (q.right - k) % len(q.choices)))
    return out


def _load() -> dict[str, list[Question]]:
    """The questions of :file:`quizzes.json` (beside this module), by notebook."""
    data = json.loads(files("fitscope.show").joinpath("quizzes.json").read_text(encoding="utf-8"))
    return {
        notebook: _spread(
            [Question(q["prompt"], [(t, w) for t, w in q["choices"]], q["right"]) for q in items]
        )
        for notebook, items in data.items()
    }


QUIZZES: dict[str, list[Question]] = _load()
"""Each notebook's questions, by its number: they test the notebook's measurements, not recall."""
