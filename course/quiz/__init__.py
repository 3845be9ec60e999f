"""Quizzes: seeded variants, grading, answers files, the interactive session, spaced review.

One home per job: expr (the safe arithmetic of seeded answers), variants (a seed
turns a Question into what the student sees), grading (scores), typed (what a
student types at the prompt, read as an answer), answers (answers files and the
key), session (the terminal loop), review (Leitner boxes). Import from the modules
themselves: this package stays empty so that the loader can use `course.quiz.expr`
without loading the rest.
"""

import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    """`course.quiz("lesson-3")` takes the quiz, though `course.quiz` is also this package.

    Importing any `course.quiz.*` module makes the attribute `quiz` of the `course`
    package this module, whatever `course.__getattr__` would give; so the package
    itself forwards a call to course.api.quiz (imported only then).
    """

    def __call__(self, *args, **kwargs):
        from course.api import quiz

        return quiz(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
