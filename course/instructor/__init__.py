"""Instructor and classroom work: `course verify`, `course release`, `course grade`, `course demo`.

One module per command, each with one public function the command calls:

    verify.verify_course    the authoring linter that runs the content (references,
                            starters, known mistakes, quiz keys)
    release.release_course  the student edition: no reference code, no hidden cases,
                            expected outputs stored as .npz
    grade.grade_class       a folder of student folders -> gradebook and reports,
                            every submission in its own sandbox, in parallel
    demo.run_demo           the whole journey on the built-in course, non-interactively

`course grade` has three helpers, one job each: submissions (reading a student's file
safely), pool (checking many files in parallel, also used by verify) and gradebook (the
result records and the files written to --out).

Nothing here judges a submission: grading is course.grading.check.check_exercise,
reports are course.reports.*, quiz scores are course.quiz. These modules only decide
what to grade, in which order and where the results go.
"""
