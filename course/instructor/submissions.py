"""The students of a class: which folders of SUBMISSIONS are graded, under which names.

Every folder name is untrusted (a student chose it, or a zip from another system
mangled it), so each student gets a `name` cleaned once here (course.untrusted.name:
NFC, one line, no control characters or escapes, undecodable bytes as U+FFFD), used
for every row, report, summary line and output folder; the folder on disk keeps its
own name.

Graded or refused, never both, and never silently:
- a dot-folder is skipped with a note (version control, editor state);
- a symbolic link to a folder is refused: it would grade someone else's work as this
  student's;
- a name that is empty once cleaned, or that clashes with a file `course grade`
  writes in --out, is refused;
- names that become the same once cleaned (an NFC and an NFD spelling, two different
  undecodable names) are all refused: which one is the student cannot be guessed;
- anything that is not a folder is ignored with a note.

Reading each student's files is course.grading.submission.read_source, the rule
`course check` uses too.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from course import untrusted


@dataclass(frozen=True)
class Student:
    name: str  # cleaned, unique in the class: rows, reports and the output folder use it
    folder: Path  # the folder on disk, under its own name


@dataclass(frozen=True)
class Refused:
    name: str  # cleaned, for the note
    reason: str

    def note(self) -> str:
        return f"not graded: {self.name} {self.reason}"


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) of a folder, from a stable hash of its cleaned name.

    sha256, not hash(): the same folder falls in the same shard on every machine, in
    every run, whatever PYTHONHASHSEED is, so N CI jobs split a class without overlap.
    """
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def find_students(submissions: Path, out: Path, reserved: tuple[str, ...],
                  select: Callable[[str], bool] | None = None) -> tuple[list[Student], list[Refused], list[str]]:
    """(students in name order, refused folders, notes on what was skipped).

    select: keep only the entries whose cleaned name it accepts (`--shard K/N`); the
    others are not looked at, not even noted: another shard notes them."""
    notes: list[str] = []
    refused: list[Refused] = []
    out_real = os.path.realpath(out)
    candidates: dict[str, list[os.DirEntry]] = {}
    with os.scandir(submissions) as entries:
        listing = sorted(entries, key=lambda e: os.fsencode(e.name))
    for entry in listing:
        name = untrusted.name(entry.name)
        if select is not None and not select(name):
            continue
        if os.path.realpath(entry.path) == out_real:
            continue  # the gradebook itself, written inside SUBMISSIONS
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            notes.append(f"ignored {name}: cannot be read ({error.strerror})")
            continue
        if entry.name.startswith("."):
            if stat.S_ISDIR(info.st_mode):
                notes.append(f"skipped {name}: folders whose name starts with a dot are not students")
            continue
        if stat.S_ISLNK(info.st_mode):
            if entry.is_dir():
                refused.append(Refused(name, "is a symbolic link to another folder: grade the folder itself"))
            else:
                notes.append(f"ignored {name}: not a folder (each student is a folder of <exercise>.py files)")
            continue
        if not stat.S_ISDIR(info.st_mode):
            notes.append(f"ignored {name}: not a folder (each student is a folder of <exercise>.py files)")
            continue
        if not name.strip():
            refused.append(Refused(repr(entry.name)[1:-1], "has no printable name: rename the folder"))
            continue
        if name in reserved:
            refused.append(Refused(name, "has the name of a file `course grade` writes in --out: rename the folder"))
            continue
        candidates.setdefault(name, []).append(entry)
    students = []
    for name, spelled in candidates.items():
        if len(spelled) > 1:
            refused.append(Refused(name, f"is the name of {len(spelled)} folders once spelled the same way "
                                         "(Unicode NFC/NFD, or undecodable bytes): rename all but one"))
            continue
        students.append(Student(name, Path(spelled[0].path)))
    students.sort(key=lambda s: s.name)
    refused.sort(key=lambda r: r.name)
    return students, refused, notes
