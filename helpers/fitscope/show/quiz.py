"""Self-check quizzes: a few multiple-choice questions at the end of each notebook, every choice
explained when it is picked.

In JupyterLab and on Binder a quiz is a widget (one set of radio buttons per question, and a line
under it that says whether the picked choice is right and why). Where no widget can run (the static
site, a plain-text console) it shows itself as a folded list of every choice with its explanation.
The questions of each notebook are in :data:`QUIZZES`, under the notebook's number, and
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
from dataclasses import dataclass
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


Q = Question
QUIZZES: dict[str, list[Question]] = {
    "00": [
        Q(
            "On the TensorFlow backend, once training is under way, which thread calls your "
            "generator's next()?",
            [
                (
                    "The main thread, as the article says",
                    "Only the batches Keras peeks at to learn the shapes ran there; the table of "
                    "who called next() gives every later call to tf.data's threads.",
                ),
                (
                    "A thread tf.data created",
                    "Keras wraps the generator in a tf.data pipeline, whose own threads call it "
                    "ahead of the step, on any number of CPUs.",
                ),
                (
                    "A thread of the kernel (kernel/ui)",
                    "Those threads existed before TensorFlow was imported; the generator's calls "
                    "ran on threads that appeared with TensorFlow.",
                ),
            ],
            right=1,
        ),
        Q(
            "Your laptop has 8 cores, and you run the notebook in a container limited to 1 CPU by "
            "a quota. What is B?",
            [
                (
                    "8",
                    "8 is the affinity, the cores the scheduler may use; the quota lets the "
                    "container burn only one CPU's time, and B is the smaller of the two.",
                ),
                (
                    "1",
                    "B is the smaller of affinity and quota: the container is throttled once it "
                    "has burnt one CPU's time per period, whatever TensorFlow's pools think.",
                ),
                (
                    "As many threads as TensorFlow starts",
                    "TensorFlow sizes its pools by the cores it sees, which inside a container is "
                    "every core of the host: that is why B reads the quota instead.",
                ),
            ],
            right=1,
        ),
        Q(
            "The same claim reads INCONCLUSIVE on Binder and HOLDS on a 4-core laptop. What does "
            "that tell you?",
            [
                (
                    "One of the two measurements is wrong",
                    "Both are right for their machine: the verdict quotes B, and the sentence "
                    "says what one CPU could not show.",
                ),
                (
                    "One CPU cannot show the effect the claim is about",
                    "Multi-core effects need B of 2 or more; with one CPU the rule says "
                    "INCONCLUSIVE and why, instead of guessing.",
                ),
                (
                    "The rule is looser on a laptop",
                    "The rule is fixed, the same everywhere; only the measurements it reads "
                    "differ between machines.",
                ),
            ],
            right=1,
        ),
        Q(
            "Why do the timelines name each thread by its role and id rather than by its name?",
            [
                (
                    "Inside a kernel almost every thread is called python",
                    "Names cannot tell TensorFlow's pools from the kernel's threads; ids taken "
                    "before and after TensorFlow started can.",
                ),
                (
                    "Thread names change while training runs",
                    "They do not change; they are simply the same for most threads.",
                ),
                (
                    "Roles are shorter to print",
                    "The role is what you read, but it exists because names are useless here: "
                    "almost every thread is called python.",
                ),
            ],
            right=0,
        ),
    ],
    "01": [
        Q(
            "While the wide model of section 4 trains on free batches, where does most of the CPU "
            "inside the steps go?",
            [
                (
                    "The main thread, since it calls fit",
                    "The main thread drives the loop and hands each step over, but the matrix "
                    "products run on TensorFlow's thread pools.",
                ),
                (
                    "Threads TensorFlow created",
                    "Its intra-op pool runs the matrix products; with more CPUs it keeps more "
                    "cores busy, on one CPU its threads take turns on it.",
                ),
                (
                    "tf.data's threads",
                    "The batches cost nothing here, so the threads that call next() have almost "
                    "nothing to do.",
                ),
            ],
            right=1,
        ),
        Q(
            "Two generators cost the same time per batch, one sleeping, one computing in pure "
            "Python. With B = 2, which can reach the ideal overlap?",
            [
                (
                    "The sleeping one",
                    "A sleep releases the GIL and needs no CPU, so it runs beside the step; it can "
                    "overlap even on one CPU.",
                ),
                (
                    "The computing one",
                    "It needs the GIL while the training loop needs it too, so the two take turns "
                    "for the Python part of each step.",
                ),
                (
                    "Both equally, since B = 2 gives each its own CPU",
                    "A second CPU is necessary for computing work, not sufficient: the GIL still "
                    "lets only one thread run Python at a time.",
                ),
            ],
            right=0,
        ),
        Q(
            "A PyDataset makes batches with pure-Python work. What limits the gain from more "
            "worker threads?",
            [
                (
                    "The GIL",
                    "Only one thread runs Python at a time, whatever the number of workers; "
                    "worker processes, each with its own GIL, are the way round it.",
                ),
                (
                    "The number of steps per epoch",
                    "Steps set how long the run is, not how many batches can be made at once.",
                ),
                (
                    "The size of Keras's queue",
                    "A longer queue holds more ready batches; it does not make Python run on two "
                    "threads at once.",
                ),
            ],
            right=0,
        ),
        Q(
            "The first next() calls of the article's run ran on the main thread. Why?",
            [
                (
                    "Keras peeks at the first batches to learn the shapes of your data",
                    "It pulls them itself, on the main thread, before tf.data takes over; their "
                    "count comes from the installed Keras.",
                ),
                (
                    "tf.data starts on the main thread and moves to its own threads later",
                    "tf.data's own calls run on its threads from the first one; the early calls "
                    "are Keras's, not tf.data's.",
                ),
                (
                    "The first epoch always runs on the main thread",
                    "Only the peeked batches did; the rest of the first epoch's calls ran on "
                    "tf.data's threads.",
                ),
            ],
            right=0,
        ),
    ],
    "01b": [
        Q(
            "On the JAX backend, which thread calls your generator's next()?",
            [
                (
                    "The main thread",
                    "Keras's JAX epoch iterator pulls each batch in the Python loop that drives "
                    "training, on 1 CPU and on 16.",
                ),
                (
                    "A tf.data thread",
                    "That is the TensorFlow backend; on JAX Keras does not wrap the generator in "
                    "tf.data.",
                ),
                (
                    "One of XLA's threads",
                    "XLA's threads run the compiled step; your Python generator runs where Keras "
                    "calls it, in the main loop.",
                ),
                (
                    "A Keras callback thread",
                    "Callback threads run callbacks marked async_safe, not the data.",
                ),
            ],
            right=0,
        ),
        Q(
            "JAX calls next() on the main thread, yet its run with a waiting generator can sit "
            "near the ideal overlap. How?",
            [
                (
                    "Asynchronous dispatch",
                    "Calling the step only queues it for XLA's threads, so the main thread calls "
                    "next() while the step computes.",
                ),
                (
                    "JAX prefetches with tf.data",
                    "Keras's JAX backend does not use tf.data for a generator; the main thread "
                    "calls it.",
                ),
                (
                    "Because the sleep needs no CPU",
                    "That makes overlap possible on one CPU, but something must run the step "
                    "meanwhile: that is dispatch, on XLA's threads.",
                ),
            ],
            right=0,
        ),
        Q(
            "A callback that reads the loss as a Python float every batch moves JAX's run towards "
            "one after the other. Why?",
            [
                (
                    "Reading the loss waits for the step to finish",
                    "The next next() cannot start until the step's result exists, so dispatch no "
                    "longer overlaps anything, on any B.",
                ),
                (
                    "The callback burns a lot of CPU",
                    "Turning one number into a float costs almost nothing; the cost is the wait "
                    "for the step.",
                ),
                (
                    "Callbacks move to a thread pool that competes with training",
                    "A callback not marked async_safe runs on the main thread: that is exactly "
                    "why it blocks it.",
                ),
            ],
            right=0,
        ),
        Q(
            "For a waiting generator, on which backend does a PyDataset with worker threads have "
            "least to gain?",
            [
                (
                    "TensorFlow",
                    "tf.data's threads already call the generator ahead of the step; worker "
                    "threads add a queue of their own and can even cost more.",
                ),
                (
                    "JAX",
                    "With a callback that waits for each step, JAX had lost its overlap; worker "
                    "threads give it back.",
                ),
                (
                    "PyTorch",
                    "Its eager step returns only when done and its main thread makes the batches, "
                    "so worker threads are its only overlap.",
                ),
            ],
            right=0,
        ),
    ],
    "02": [
        Q(
            "With the labels fixed, the trainer child trained under fork. What happened to the "
            "parent's weight checksum?",
            [
                (
                    "It stayed the same",
                    "The child trained its own copy in its own memory; nothing sends its updates "
                    "back to the parent.",
                ),
                (
                    "It changed, since fork shares memory",
                    "fork copies the parent's memory; writes in the child never reach the parent.",
                ),
                (
                    "It changed under spawn only",
                    "spawn copies even less: the child unpickles its own model from what the "
                    "parent sent.",
                ),
            ],
            right=0,
        ),
        Q(
            "Why did the article's script not end by itself when its last line ran?",
            [
                (
                    "multiprocessing joins every non-daemon child at exit, and they loop forever",
                    "The parent's exit handler waits for children nobody stops: only the "
                    "watchdog ends them.",
                ),
                (
                    "TensorFlow's threads keep the parent alive",
                    "The parent waited in multiprocessing's exit handler, for its children.",
                ),
                (
                    "The queue was full",
                    "An unbounded queue is never full; it only grows.",
                ),
            ],
            right=0,
        ),
        Q(
            "The producer's memory kept climbing in the fork run. What stops that growth?",
            [
                (
                    "A bounded queue",
                    "A producer that runs ahead blocks when the queue is full, so the backlog "
                    "never exceeds the queue's size.",
                ),
                (
                    "spawn instead of fork",
                    "The start method changes how children start, not how many batches wait in an "
                    "unbounded queue.",
                ),
                (
                    "A faster trainer",
                    "That slows the growth only while the trainer keeps up; a trainer that stops "
                    "lets it grow again.",
                ),
            ],
            right=0,
        ),
        Q(
            "With B = 1, how much faster can two worker processes make pure-Python batches than "
            "one?",
            [
                (
                    "Not faster: they share the one CPU",
                    "Each has its own GIL, but the bound divides the producer's time by "
                    "min(workers, B), which is one here.",
                ),
                (
                    "Twice as fast, since each has its own GIL",
                    "Their own GILs let them run Python side by side only on two CPUs.",
                ),
                (
                    "Slower than threads",
                    "On one CPU neither threads nor processes add CPU time; processes also pay to "
                    "send each batch, so they can be a little slower, not for the GIL.",
                ),
            ],
            right=0,
        ),
    ],
    "03": [
        Q(
            "In TensorFlow 2.21, why is 'with .prefetch against without it' not a fair test?",
            [
                (
                    "tf.data injects a prefetch anyway unless inject_prefetch is False",
                    "The pipeline without .prefetch gets one when its iterator is made, so the "
                    "fair baseline switches injection off.",
                ),
                (
                    "prefetch does nothing for arrays in memory",
                    "It can still overlap shuffle-and-batch with the step; how much it pays is "
                    "what section 1 measured.",
                ),
                (
                    "Keras adds a prefetch of its own in fit",
                    "The prefetch that appears comes from tf.data's own optimisation, not from "
                    "Keras.",
                ),
            ],
            right=0,
        ),
        Q(
            "A parallel map over NumPy work that releases the GIL, with B = 1. What do you expect?",
            [
                (
                    "No measurable gain",
                    "Releasing the GIL lets two calls run at once only if two CPUs are free; on "
                    "one CPU they take turns.",
                ),
                (
                    "About twice as fast",
                    "That needs a second CPU; B = 1 gives none.",
                ),
                (
                    "Much slower",
                    "Two calls sharing one CPU take about as long as one after the other, plus a "
                    "little switching.",
                ),
            ],
            right=0,
        ),
        Q(
            "A parallel map over pure Python in tf.py_function, with B = 8. What do you expect?",
            [
                (
                    "No faster than the sequential map, maybe slower",
                    "Pure Python holds the GIL: one call runs at a time whatever B is, and "
                    "switching the GIL costs a little.",
                ),
                (
                    "Up to 8 times faster",
                    "Eight CPUs help work that releases the GIL, not pure Python.",
                ),
                (
                    "Twice as fast, with num_parallel_calls=2",
                    "Two threads take turns on the GIL; the timeline shows one waiting while the "
                    "other runs.",
                ),
            ],
            right=0,
        ),
        Q(
            "Once the consumer (the train step) is the slowest stage, what is the pipeline's "
            "ideal bound?",
            [
                (
                    "The consumer's own time",
                    "No faster producer can go below it: a better pipeline only helps while the "
                    "producer is the slowest.",
                ),
                (
                    "The producer's time split over its threads",
                    "That is the bound only while the producer is slower than the consumer.",
                ),
                (
                    "The sum of producer and consumer",
                    "That is the one-after-the-other bound, what a pipeline without prefetch pays.",
                ),
            ],
            right=0,
        ),
    ],
    "04": [
        Q(
            "Two workers seeded differently, each seeing different data, train under "
            "MultiWorkerMirroredStrategy. Their final weights are:",
            [
                (
                    "Identical",
                    "The strategy broadcasts worker 0's initial values and sums every step's "
                    "gradients across workers before any weight changes.",
                ),
                (
                    "Different, because the seeds differ",
                    "The seeds matter only outside the strategy: inside it every worker starts "
                    "from worker 0's values.",
                ),
                (
                    "Different, because the data differs",
                    "Different data changes the gradients, but every worker applies the same "
                    "sum of them.",
                ),
            ],
            right=0,
        ),
        Q(
            "A worker waits for a peer that never joins. What do you see?",
            [
                (
                    "Nothing, until the watchdog ends it",
                    "The strategy's constructor waits silently and uses no CPU; timeout_seconds "
                    "does not cover this wait.",
                ),
                (
                    "A DeadlineExceededError after timeout_seconds",
                    "timeout_seconds applies to collectives once they run, not to the wait for "
                    "peers to join.",
                ),
                (
                    "A warning that the peer is missing",
                    "The worker prints nothing; its last words came before the wait.",
                ),
            ],
            right=0,
        ),
        Q(
            "MirroredStrategy over two logical CPU devices on a 2-core laptop. Compared with one "
            "device, a step is:",
            [
                (
                    "No faster, often slower",
                    "Logical devices add no cores, and each step also splits the batch and "
                    "combines the gradients.",
                ),
                (
                    "About twice as fast",
                    "That needs each replica to bring its own hardware, as GPUs do.",
                ),
                (
                    "The same, with different weights",
                    "The weights match one device's to rounding: same arithmetic, another order.",
                ),
            ],
            right=0,
        ),
        Q(
            "When does a tf.data service with two workers deliver elements about twice as fast?",
            [
                (
                    "When the workers run on other machines",
                    "Each then brings its own cores; on one machine they share the same B CPUs "
                    "and every element pays a trip through gRPC.",
                ),
                (
                    "Always: two workers do the map",
                    "On one machine the local pipeline already used the cores; the bound never "
                    "shares the work over more than B CPUs.",
                ),
                (
                    "When B = 1",
                    "With one CPU the service can only be slower than the local pipeline.",
                ),
            ],
            right=0,
        ),
    ],
    "05": [
        Q(
            "Keras prints a time per step for the generator run. What does it include?",
            [
                (
                    "The step and any wait for the next batch",
                    "It is the wall time from one step to the next; fit cannot tell the two "
                    "apart, which is what diagnose measures.",
                ),
                (
                    "Only the model's step",
                    "A step that waits for its batch takes longer, and the wait is in the time "
                    "Keras prints.",
                ),
                (
                    "Only the generator's time",
                    "The step runs in that time too; on TensorFlow the generator's work can even "
                    "hide behind it.",
                ),
            ],
            right=0,
        ),
        Q(
            "The step alone takes 40 ms and a step in fit 50 ms. What does diagnose conclude?",
            [
                (
                    "Input share 20 %: highly input-bound",
                    "1 − 40/50 = 0.2: a fifth of each step is not explained by the step alone, at "
                    "the line of TF Profiler's highly input-bound category.",
                ),
                (
                    "Input share 25 %: highly input-bound",
                    "The share is of the step in fit, 1 − 40/50, not of the step alone.",
                ),
                (
                    "Not input-bound, since the model dominates",
                    "The model's 40 ms dominate, but 10 ms of every step are waiting for data.",
                ),
            ],
            right=0,
        ),
        Q(
            "With B = 1, which fix can bring the image pipeline to the step-alone time?",
            [
                (
                    "None of them",
                    "On one CPU the data's CPU work and the step share the CPU; the fixes can only "
                    "approach their ideal-overlap bound, which is above the step alone.",
                ),
                (
                    "tf.data with a parallel map and prefetch",
                    "Its decoding still needs CPU, and on one CPU that adds to the step's.",
                ),
                (
                    "Worker processes",
                    "Their own GILs help only on more than one CPU.",
                ),
            ],
            right=0,
        ),
        Q(
            "On a 4-CPU machine, two threads decode with Pillow barely faster than one. What does "
            "that suggest?",
            [
                (
                    "Most of each call held the GIL",
                    "Work that releases the GIL runs side by side on two free CPUs; little gain "
                    "means the GIL-holding part was large (or the CPUs were busy).",
                ),
                (
                    "Pillow cannot run in threads",
                    "It can; the question is how much of its work releases the GIL meanwhile.",
                ),
                (
                    "Four CPUs are too few",
                    "Two threads need only two CPUs; the limit here is the GIL, not B.",
                ),
            ],
            right=0,
        ),
    ],
}
QUIZZES = {notebook: _spread(questions) for notebook, questions in QUIZZES.items()}
"""Each notebook's questions, by its number: they test the notebook's measurements, not recall."""
