"""Instructor and classroom work: `course verify`, `course release`, `course grade`, `course demo`.

One module per command, each with one public function the command calls:

    verify.verify_course    the authoring linter that runs the content (references,
                            starters, known mistakes, quiz keys)
    release.release_course  the student edition: no reference code, no hidden cases,
                            expected outputs stored as .npz
    grade.grade_class       a folder of student folders -> gradebook and reports,
                            every submission in its own sandbox, in parallel
    merge.merge_outputs     `course merge`: shard outputs -> what one grade run writes
    autograder.build_autograder   `course autograder`: a Gradescope zip (and, inside it,
                            autograder.run_autograder grades one submission)
    demo.run_demo           the whole journey on the built-in course, non-interactively

`course grade` has helpers, one job each: submissions (which folders are students, and
shards of them), pool (checking many files in parallel on this machine, also used by
verify), cluster (the same on a Dask cluster), progress (what is being graded now) and
gradebook (the result records and the files written to --out).

Nothing here judges a submission: grading is course.grading.check.check_exercise,
reports are course.reports.*, quiz scores are course.quiz. These modules only decide
what to grade, in which order and where the results go.
"""
