"""`course merge OUT... --out DIR`: the outputs of `course grade --shard K/N` runs, joined.

A class too big for one job is graded as N shards (each a fixed 1/N of the students,
by a stable hash of the folder name), on N machines or CI jobs; this joins their
outputs into exactly the files one `course grade` over the whole class writes:
grades.csv, results.json and each student's folder. The gradebook is written by the
same code (course.instructor.gradebook.Gradebook) from the shards' results.json, so
the two cannot drift apart; `tests/engine/test_grade_class.py` compares them.

Refused, with the reason (exit 2), rather than a gradebook that looks whole and is
not: outputs of different courses (fingerprints), different --exercise lists or
--strict, an interrupted (partial) shard, a missing or repeated shard, a student in
two outputs.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Sequence

from course.errors import UsageError
from course.instructor.gradebook import (
    FORMAT,
    RESULTS_FILE,
    BatchResult,
    ClassInfo,
    ExerciseColumn,
    Gradebook,
    StudentGrade,
    result_from_dict,
)


def _read(out: Path) -> dict:
    path = out / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{out} holds no {RESULTS_FILE}: is it the --out of a `course grade` run?") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("students"), list):
        raise UsageError(f"{path} is not the results.json of this version's `course grade`")
    if data.get("partial"):
        raise UsageError(f"{out} is partial (interrupted or unfinished): run its `course grade` command again "
                         f"to finish it, then merge")
    return data


def _info(data: dict) -> ClassInfo:
    columns = tuple(ExerciseColumn(e["id"], e["title"], float(e["max_score"])) for e in data["exercises"])
    return ClassInfo(data.get("course") or "", data.get("course_root") or "", data.get("edition") or "instructor",
                     data.get("course_fingerprint") or "", bool(data.get("strict")), columns, None)


def _check_shards(outputs: Sequence[Path], shards: list) -> None:
    if all(s is None for s in shards):
        return
    if any(s is None for s in shards):
        whole = [str(o) for o, s in zip(outputs, shards) if s is None]
        raise UsageError(f"{', '.join(whole)} graded the whole class, the others one shard each: merge shards only")
    counts = {int(str(s).partition("/")[2]) for s in shards}
    if len(counts) != 1:
        raise UsageError(f"the outputs are shards of different splits ({', '.join(sorted(set(shards)))}): "
                         f"merge the N outputs of one --shard K/N split")
    count = counts.pop()
    seen: dict[int, Path] = {}
    for out, shard in zip(outputs, shards):
        index = int(str(shard).partition("/")[0])
        if index in seen:
            raise UsageError(f"shard {shard} is given twice: {seen[index]} and {out}")
        seen[index] = out
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise UsageError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                         f"{'are' if len(missing) > 1 else 'is'} missing: merge all {count} outputs")


def merge_outputs(outputs: Sequence[Path], out: Path) -> BatchResult:
    """Join the shard outputs into `out`; the BatchResult's exit code is `course grade`'s."""
    outputs = [Path(o) for o in outputs]
    out = Path(out)
    real = {os.path.realpath(o) for o in outputs}
    if len(real) != len(outputs):
        raise UsageError("the same output is given twice")
    if os.path.realpath(out) in real:
        raise UsageError(f"--out {out} is one of the outputs to merge: write the merge to a new folder")
    datas = [_read(o) for o in outputs]
    try:
        infos = [_info(d) for d in datas]
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"a results.json to merge is not complete (no {error}): was it edited?") from None
    for source, _data, info in zip(outputs[1:], datas[1:], infos[1:]):
        if info.fingerprint != infos[0].fingerprint:
            raise UsageError(f"{source} was graded with another course (or engine) than {outputs[0]}: "
                             f"fingerprints {info.fingerprint[:12]} and {infos[0].fingerprint[:12]}")
        if [e.id for e in info.exercises] != [e.id for e in infos[0].exercises]:
            raise UsageError(f"{source} graded the exercises {', '.join(e.id for e in info.exercises)}, "
                             f"{outputs[0]} {', '.join(e.id for e in infos[0].exercises)}: use the same --exercise")
        if info.strict != infos[0].strict:
            raise UsageError(f"{source} and {outputs[0]} differ in --strict: grade every shard the same way")
    _check_shards(outputs, [d.get("shard") for d in datas])

    owner: dict[str, Path] = {}
    grades: list[tuple[Path, StudentGrade]] = []
    for source, data in zip(outputs, datas):
        for entry in data["students"]:
            try:
                name = entry["student"]
                results = [result_from_dict(r) for r in entry["results"]]
            except (KeyError, TypeError, ValueError) as error:
                raise UsageError(f"{source / RESULTS_FILE} has a student entry that cannot be read ({error}): "
                                 f"was it edited?") from None
            if name in owner:
                raise UsageError(f"student {name} is in both {owner[name]} and {source}")
            owner[name] = source
            grades.append((source, StudentGrade(name, entry.get("digest") or "", results,
                                                notes=list(entry.get("notes") or []))))
    notes = [n for d in datas for n in d.get("notes") or []]
    refused = [r for d in datas for r in d.get("refused") or []]
    try:
        out.mkdir(parents=True, exist_ok=True)
        book = Gradebook(infos[0], out, sum(int(d.get("students_total") or 0) for d in datas), notes, refused)
        for source, grade in grades:
            target = out / grade.student
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            if (source / grade.student).is_dir():
                shutil.copytree(source / grade.student, target, symlinks=True)
            book.add(grade, write_reports=False)
        book.close(False)
    except OSError as error:
        raise UsageError(f"cannot write the merge to {out}: {error.strerror or error}") from None
    students = book.sorted_students()
    return BatchResult(out, tuple(e.id for e in infos[0].exercises), students, book.total, notes=[],
                       refused=list(refused))
