"""Graph figures drawn with Graphviz: a GraphFigure becomes DOT source, then SVG and PNG.

The `graphviz` Python package builds the DOT source and runs the layout program.
Which program (the first that works, per output format):

1. `$COURSE_GRAPHVIZ_DOT`, when set: that program and nothing else. A value that is
   not a program (e.g. `/nonexistent`) means "no Graphviz": only the .dot file is
   written. Useful to force one program, and to test the fallback.
2. The system Graphviz: `dot` on PATH.
3. The `graphviz-pure` wheel (a pip-installable port of dot, a dependency of the
   course): its program is named `graphviz-pure`, not `dot`, and sits in the
   Python environment's scripts folder, which need not be on PATH (a venv that is
   not activated). It writes svg and png (not pdf).

The program is handed to the graphviz package for the duration of one call;
the user's PATH is never changed. When no program works, the DOT source is
written instead, with a note saying how to render it: never a crash.
"""
from __future__ import annotations

import html
import os
import shutil
import sys
import sysconfig
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course import model as m
from course.plots.style import OKABE_ITO, tint

ENV_VAR = "COURSE_GRAPHVIZ_DOT"
PURE_PROGRAM = "graphviz-pure"
FORMATS = ("png", "svg")
FONT = "Helvetica"  # graphviz-pure maps it to its bundled Arimo; a system Graphviz to its Helvetica

# Colour-blind-safe fills (Okabe–Ito tints, light enough for black text): one per cluster.
_CLUSTER_COLOURS = tuple(OKABE_ITO[n] for n in ("sky_blue", "orange", "bluish_green", "reddish_purple", "yellow", "blue"))
_OUTSIDE_FILL = "#F2F2F2"
_BOX_SHAPES = {"box", "rect", "rectangle", "square"}
_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg"}


@dataclass(frozen=True)
class DotProgram:
    """A program with dot's command line, and where it was found (for messages)."""

    path: Path
    origin: str  # "$COURSE_GRAPHVIZ_DOT" | "system Graphviz" | "graphviz-pure wheel"


@dataclass(frozen=True)
class DiagramOutput:
    files: tuple[Path, ...]  # in the order written: .png, .svg, and .dot when something failed
    program: DotProgram | None  # the program that drew the first file, if any
    note: str  # "" when every format was written


def find_dot_programs(environ: os._Environ | dict | None = None) -> list[DotProgram]:
    """The layout programs to try, best first (see the module docstring)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENV_VAR, "").strip()
    if chosen:
        found = shutil.which(chosen)
        return [DotProgram(Path(found), f"${ENV_VAR}")] if found else []
    programs = []
    system = shutil.which("dot")
    if system:
        programs.append(DotProgram(Path(system), "system Graphviz"))
    pure = _find_graphviz_pure()
    if pure:
        programs.append(DotProgram(pure, "graphviz-pure wheel"))
    return programs


def _find_graphviz_pure() -> Path | None:
    """The wheel's program: beside this Python, in its scripts folders (also --user), else on PATH."""
    folders = [Path(sys.executable).parent]  # not resolved: a venv's python is a symlink out of the venv
    for scheme in (None, sysconfig.get_preferred_scheme("user")):
        try:
            folders.append(Path(sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")))
        except KeyError:  # pragma: no cover - an unusual sysconfig
            pass
    for folder in folders:
        found = shutil.which(PURE_PROGRAM, path=str(folder))  # also finds graphviz-pure.exe on Windows
        if found:
            return Path(found)
    found = shutil.which(PURE_PROGRAM)
    return Path(found) if found else None


def _dot_text(label: str):
    """A plain (never HTML) DOT label: backslashes kept literal, line breaks as dot's centred `\\n`."""
    import graphviz

    return graphviz.nohtml(label.replace("\\", "\\\\").replace("\n", "\\n"))


def build_digraph(figure: m.GraphFigure, *, subtitle: str = ""):
    """The figure as a graphviz.Digraph: title (and `subtitle`, e.g. the sources) on top,
    clusters as `cluster_*` subgraphs, nodes filled by cluster, edge styles as declared."""
    import graphviz

    title = f"<B>{html.escape(figure.title)}</B>"
    if subtitle:
        title += f'<BR/><FONT POINT-SIZE="9" COLOR="#444444">{html.escape(subtitle)}</FONT>'
    graph = graphviz.Digraph(name=figure.id)
    graph.attr(
        rankdir=figure.direction, label=f"<{title}>", labelloc="t", fontname=FONT, fontsize="16",
        nodesep="0.35", ranksep="0.4", pad="0.2", bgcolor="white",
    )
    graph.attr("node", fontname=FONT, fontsize="12", color="#333333", penwidth="1.2", margin="0.15,0.06")
    graph.attr("edge", fontname=FONT, fontsize="10", fontcolor="#333333", color="#333333", arrowsize="0.8")

    def add_node(target, node: m.GraphNode, fill: str) -> None:
        style = "rounded,filled" if node.shape in _BOX_SHAPES else "filled"
        target.node(node.id, _dot_text(node.label or node.id), shape=node.shape, style=style, fillcolor=fill)

    # Nodes in the author's order, each cluster where its first node is: dot keeps that left to right.
    cluster_of = {node_id: index for index, cluster in enumerate(figure.clusters) for node_id in cluster.nodes}
    nodes = {node.id: node for node in figure.nodes}
    emitted: set[int] = set()
    for node in figure.nodes:
        index = cluster_of.get(node.id)
        if index is None:
            add_node(graph, node, _OUTSIDE_FILL)
        elif index not in emitted:
            emitted.add(index)
            cluster = figure.clusters[index]
            colour = _CLUSTER_COLOURS[index % len(_CLUSTER_COLOURS)]
            with graph.subgraph(name=f"cluster_{cluster.id}") as sub:
                sub.attr(
                    label=_dot_text(cluster.label or cluster.id), style="rounded,filled",
                    fillcolor=tint(colour, 0.12), color=colour, penwidth="1.5", fontsize="13",
                    labelloc="b", labeljust="l",  # edges enter at the top: keep the label clear of them
                )
                for node_id in cluster.nodes:
                    add_node(sub, nodes[node_id], tint(colour, 0.45))
    for edge in figure.edges:
        attrs = {}
        if edge.label:
            attrs["label"] = _dot_text(" " + edge.label)  # a space keeps the text off the line
        if edge.style == "bold":
            attrs.update(style="bold", penwidth="2.2")
        elif edge.style in ("dashed", "dotted"):
            attrs.update(style=edge.style, color="#666666")
        graph.edge(edge.source, edge.target, **attrs)
    return graph


_BINARY_LOCK = threading.Lock()


@contextmanager
def _graphviz_using(program: Path):
    """Point the graphviz package at `program` for one call (it reads the module-level DOT_BINARY)."""
    from graphviz.backend import dot_command

    with _BINARY_LOCK:
        saved = dot_command.DOT_BINARY
        dot_command.DOT_BINARY = program
        try:
            yield
        finally:
            dot_command.DOT_BINARY = saved


def _pipe(graph, fmt: str, program: DotProgram) -> tuple[bytes | None, str]:
    """(output, "") or (None, why it failed)."""
    import graphviz

    try:
        with _graphviz_using(program.path):
            data = graph.pipe(format=fmt, quiet=True)
    except graphviz.CalledProcessError as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else str(error.stderr or "")
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {error.returncode}"
        return None, f"{program.path} -T{fmt}: {reason}"
    except (graphviz.ExecutableNotFound, OSError) as error:
        return None, f"{program.path}: {error}"
    except (ImportError, AttributeError) as error:  # a graphviz package without backend.dot_command.DOT_BINARY
        return None, f"the graphviz package {getattr(graphviz, '__version__', '?')} cannot be pointed at a program ({error})"
    if _MAGIC[fmt] not in data[:512]:
        return None, f"{program.path} -T{fmt}: the output is not {fmt.upper()}"
    return data, ""


def _at_resolution(graph, svg: Path | None):
    """A copy of `graph` whose PNG is at least MIN_PNG_WIDTH pixels wide (its SVG gives the width in points)."""
    import math
    import re

    from course.plots.style import MIN_PNG_WIDTH

    dpi = 192  # twice the usual screen: when the SVG could not be drawn to measure
    if svg is not None:
        match = re.search(rb'<svg[^>]*\swidth="([0-9.]+)pt"', svg.read_bytes()[:2000])
        if match and float(match.group(1)) > 0:
            dpi = max(96, math.ceil(72 * (MIN_PNG_WIDTH + 2) / float(match.group(1))))
    copy = graph.copy()
    copy.attr(dpi=str(dpi))
    return copy


def render_diagram(
    figure: m.GraphFigure, stem: Path, *, subtitle: str = "", programs: list[DotProgram] | None = None
) -> DiagramOutput:
    """Write `stem`.png and `stem`.svg; when a format cannot be drawn, also `stem`.dot and a note.

    `programs` defaults to find_dot_programs(); an empty list means no Graphviz.
    """
    graph = build_digraph(figure, subtitle=subtitle)
    programs = find_dot_programs() if programs is None else programs
    stem = Path(stem)
    files: list[Path] = []
    used: DotProgram | None = None
    failures: dict[str, list[str]] = {}
    drawn: dict[str, Path] = {}
    for fmt in ("svg", "png"):  # the SVG first: its size sets the PNG's resolution
        source = graph if fmt == "svg" else _at_resolution(graph, drawn.get("svg"))
        for program in programs:
            data, reason = _pipe(source, fmt, program)
            if data is not None:
                path = stem.with_name(f"{stem.name}.{fmt}")
                path.write_bytes(data)
                drawn[fmt] = path
                used = used or program
                break
            failures.setdefault(fmt, []).append(reason)
        else:
            failures.setdefault(fmt, [])
    files = [drawn[fmt] for fmt in FORMATS if fmt in drawn]
    if not failures:
        return DiagramOutput(tuple(files), used, "")
    dot_file = stem.with_name(f"{stem.name}.dot")
    dot_file.write_text(graph.source, encoding="utf-8")
    files.append(dot_file)
    return DiagramOutput(tuple(files), used, _fallback_note(dot_file, failures, programs))


def _fallback_note(dot_file: Path, failures: dict[str, list[str]], programs: list[DotProgram]) -> str:
    sharp = {"png": " -Gdpi=192"}  # PNGs at least 1280 pixels wide, as the course draws them
    commands = " ; ".join(f"dot -T{fmt}{sharp.get(fmt, '')} {dot_file} -o {dot_file.with_suffix('.' + fmt)}"
                          for fmt in failures)
    if not programs:
        chosen = os.environ.get(ENV_VAR, "").strip()
        why = f"${ENV_VAR}={chosen} is not a program" if chosen else "no `dot` on PATH and no graphviz-pure"
        return (
            f"wrote .dot only: no Graphviz program found ({why}); render with: {commands} "
            f"(or `pip install graphviz-pure` and use `graphviz-pure` in place of `dot`)"
        )
    missing = ", ".join(fmt.upper() for fmt in failures)
    reasons = "; ".join(reason for fmt in failures for reason in failures[fmt])
    return f"{missing} not written ({reasons}); wrote the .dot source instead: render with: {commands}"
