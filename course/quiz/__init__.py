"""Quizzes: seeded variants, grading, answers files, the interactive session, spaced review.

One home per job: expr (the safe arithmetic of seeded answers), variants (a seed
turns a Question into what the student sees), grading (scores), typed (what a
student types at the prompt, read as an answer), answers (answers files and the
key), session (the terminal loop), review (Leitner boxes). Import from the modules
themselves: this package stays empty so that the loader can use `course.quiz.expr`
without loading the rest.
"""
