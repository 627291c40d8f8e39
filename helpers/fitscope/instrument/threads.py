"""Who is who among this process's OS threads, decided by thread id, never by name.

Inside a Jupyter kernel most threads are called "python", and so are TensorFlow's pools. Roles
therefore come from ids: the threads that existed when fitscope was imported ("kernel/ui"), the
main thread, the threads a fitscope span was recorded on (e.g. inside a generator's ``next()``),
and the threads that appeared while fitscope ran a first TensorFlow op itself.

Example:
    >>> roles = ThreadRoles.current()
    >>> roles.role(threading.main_thread().native_id)
    'main'
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from fitscope.instrument.sampling import thread_ids

__all__ = [
    "ThreadRoles",
    "MAIN",
    "KERNEL",
    "TF_DATA",
    "TF_CREATED",
    "FITSCOPE",
    "EARLIER",
    "LATER",
    "ROLE_ORDER",
]

MAIN = "main"
KERNEL = "kernel/ui"
TF_DATA = "tf.data threads (ran Python)"
TF_CREATED = "threads TensorFlow created"
FITSCOPE = "fitscope sampler"
EARLIER = "started before TensorFlow"
LATER = "started during the run"
ROLE_ORDER = [MAIN, KERNEL, TF_DATA, TF_CREATED, LATER, EARLIER, FITSCOPE]


@dataclass
class ThreadRoles:
    """Thread ids grouped by what we know of them.

    ``baseline`` holds every OS thread present when fitscope was imported; ``tensorflow`` the ids
    that appeared while :meth:`warm_up_tensorflow` ran a first op, ``before_tensorflow`` those
    that other libraries (e.g. NumPy's BLAS) started in between; ``tensorflow_was_loaded``
    says whether TensorFlow had already started before the baseline (then its threads are in it).
    """

    main: int
    baseline: set[int] = field(default_factory=set)
    tensorflow: set[int] = field(default_factory=set)
    before_tensorflow: set[int] = field(default_factory=set)
    tensorflow_was_loaded: bool = False

    @classmethod
    def current(cls) -> ThreadRoles:
        """The roles object taken when fitscope was imported (shared by the whole kernel)."""
        return _ROLES

    @classmethod
    def snapshot(cls) -> ThreadRoles:
        """Take a new baseline of this process's threads now."""
        main = threading.main_thread().native_id
        assert main is not None  # None only for a thread not started yet
        return cls(
            main=main,
            baseline=set(thread_ids()),
            tensorflow_was_loaded="tensorflow" in sys.modules,
        )

    def warm_up_tensorflow(self) -> set[int]:
        """Import TensorFlow and run a first op and a tiny tf.data pipeline; new ids are TF's.

        Idempotent: later calls return the ids found the first time.
        """
        if self.tensorflow:
            return self.tensorflow
        before = set(thread_ids())
        self.before_tensorflow = before - self.baseline
        import tensorflow as tf

        x = tf.random.normal((64, 64))
        (x @ x).numpy()
        ds = tf.data.Dataset.range(8).map(tf.square, num_parallel_calls=2).prefetch(2)
        for _ in ds:
            pass
        self.tensorflow = set(thread_ids()) - before - self.baseline
        return self.tensorflow

    def role(self, tid: int, tf_data_python: Iterable[int] = (), sampler: int | None = None) -> str:
        """The role of one thread id; ``tf_data_python`` are ids a tracer saw inside tf.data."""
        if tid == self.main:
            return MAIN
        if tid == sampler:
            return FITSCOPE
        if tid in set(tf_data_python):
            return TF_DATA
        if tid in self.tensorflow:
            return TF_CREATED
        if tid in self.baseline:
            return KERNEL
        if tid in self.before_tensorflow:
            return EARLIER
        return LATER

    def roles(
        self, tids: Iterable[int], tf_data_python: Iterable[int] = (), sampler: int | None = None
    ) -> dict[int, str]:
        """Role of every id in ``tids``."""
        seen = set(tf_data_python)
        return {tid: self.role(tid, seen, sampler) for tid in tids}


_ROLES = ThreadRoles.snapshot()
