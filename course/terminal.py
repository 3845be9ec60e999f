"""What the tool prints to a terminal: the width, whether to colour, and rich.

One home for three decisions every command shares:

- **width**: `COLUMNS` when set (also when the output is piped: a user who sets it
  means it), else the terminal's width, else 80; `columns()` never looks at anything else.
- **colour**: only on a terminal and never when `NO_COLOR` is set (no-color.org) or
  `TERM=dumb`.
- **rich** renders Markdown, tables with word-aware column widths, highlighted code
  and wrapped text. It is imported here, inside functions, and nowhere at module level:
  it costs about 0.1 s, and `course --help` and the `course check` path do without it
  (the check report wraps with textwrap, course.reports.text).

`render()` turns rich renderables into a string (styled or plain) with no trailing
blanks, so callers can page it, test it or print it; `printer()` prints as it goes
(the quiz).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console, RenderableType

DEFAULT_COLUMNS = 80
MIN_COLUMNS = 20
_TRAILING = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.M)  # trailing blanks, before trailing style resets


def columns(stream=None, *, default: int = DEFAULT_COLUMNS) -> int:
    """The width to print at: COLUMNS, else the terminal's width (on a terminal), else `default`."""
    value = os.environ.get("COLUMNS", "").strip()
    if value.isdigit() and int(value) >= MIN_COLUMNS:
        return int(value)
    stream = stream or sys.stdout
    if _isatty(stream):
        try:
            size = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            size = shutil.get_terminal_size((default, 24)).columns
        if size >= MIN_COLUMNS:
            return size
    return default


def color(stream=None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (any value) or TERM=dumb."""
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    return _isatty(stream or sys.stdout)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------- rich


def console(file=None, *, width: int | None = None, colour: bool | None = None) -> "Console":
    """A rich Console that follows this module's width and colour rules."""
    from rich.console import Console

    file = file if file is not None else sys.stdout
    colour = color(file) if colour is None else colour
    return Console(
        file=file,
        width=width or columns(file),
        color_system="standard" if colour else None,
        force_terminal=colour,
        no_color=not colour,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        soft_wrap=False,
        tab_size=4,
        force_jupyter=False,  # in a notebook too: the text goes to `file`, not to a display
    )


def render(renderables: Iterable["RenderableType"], *, width: int, colour: bool = False) -> str:
    """The renderables as text `width` columns wide: ANSI-styled when `colour`, plain otherwise."""
    import io

    buffer = io.StringIO()
    out = console(buffer, width=width, colour=colour)
    for item in renderables:
        out.print(item, crop=False)  # a no_wrap line (a path, a URL) is printed whole, never cut
    return strip_trailing(buffer.getvalue())


def strip_trailing(text: str) -> str:
    """Every line without trailing blanks (rich pads lines to the width)."""
    return _TRAILING.sub(r"\1", text)


def text(content: Any = "", style: str = "", *, indent: int = 0, hanging: int | None = None) -> "RenderableType":
    """A paragraph wrapped at words; `indent` on the first line, `hanging` on the others (default: indent)."""
    from rich.text import Text

    body = content if isinstance(content, Text) else Text(str(content), style=style or "")
    return Hanging(Text(" " * indent), body, indent if hanging is None else hanging)


def unbroken(content: Any, style: str = "") -> "RenderableType":
    """A line never wrapped nor cut (a file path, a URL, a command to copy): longer than the width, it runs over."""
    from rich.text import Text

    return Unbroken(content if isinstance(content, Text) else Text(str(content), style=style or ""))


class Unbroken:
    """A rich renderable: one line of text as it is, whatever the width (rich would fold it)."""

    def __init__(self, text):
        self.text = text

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        yield from self.text.render(console, end="")
        yield Segment.line()

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(self.text.cell_len, self.text.cell_len)


def labelled(label: Any, body: Any, *, hanging: int | None = None, label_style: str = "") -> "RenderableType":
    """`label` then `body`, the body's continuation lines indented under its first word.

    "  a) " + a long choice wraps as
        a) first words of the choice
           the rest, under the first word
    """
    from rich.text import Text

    prefix = label if isinstance(label, Text) else Text(str(label), style=label_style or "")
    text_ = body if isinstance(body, Text) else Text(str(body))
    return Hanging(prefix, text_, prefix.cell_len if hanging is None else hanging)


class Hanging:
    """A rich renderable: `prefix` + `body` wrapped at words, later lines indented by `hanging` columns.

    rich wraps a Text at one width; a hanging indent needs two (the first line has the
    prefix, the others the indent), so the first line is wrapped alone and the rest after it.
    """

    def __init__(self, prefix, body, hanging: int):
        self.prefix, self.body, self.hanging = prefix, body, hanging

    def __rich_console__(self, console, options):
        from rich.text import Text

        width = options.max_width
        first_width = max(width - self.prefix.cell_len, 8)
        lines = self.body.wrap(console, first_width, overflow="fold") if self.body.plain else []
        if not lines:
            yield self.prefix.copy()
            return
        first = lines[0]
        first.rstrip()
        out = [self.prefix + first]
        rest = self.body[len(first.plain):]
        while rest.plain[:1] in (" ", "\n") and rest.plain:
            rest = rest[1:]
        if rest.plain:
            pad = Text(" " * self.hanging)
            for line in rest.wrap(console, max(width - self.hanging, 8), overflow="fold"):
                line.rstrip()
                out.append(pad + line)
        joined = Text("\n").join(out)
        joined.no_wrap = True
        joined.overflow = "ignore"
        yield joined

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(min(options.max_width, self.hanging + 8), options.max_width)


def markdown(source: str, *, colour: bool) -> "RenderableType":
    """Markdown as the course writes it (paragraphs, lists, ### headings, bold, italic, code)."""
    return _markdown_class()(source, colour=colour)


def table(
    columns_: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str = "", colour: bool = False,
    indent: int = 2,
) -> "RenderableType":
    """A table whose columns get widths by their words: a word is never split while the words fit.

    When even the longest word of every column cannot fit side by side in the width, the
    table is shown as one record per row ("Column: value" lines) instead of cutting words.
    """
    return WordTable([str(c) for c in columns_], [[str(cell) for cell in row] for row in rows], caption=caption,
                     colour=colour, indent=indent)


class WordTable:
    """A rich renderable: a table when its words fit the width, a list of records when not."""

    GAP = 3  # " | " between columns

    def __init__(self, columns_: list[str], rows: list[list[str]], *, caption: str, colour: bool, indent: int):
        self.columns, self.rows, self.caption, self.colour, self.indent = columns_, rows, caption, colour, indent

    def _longest_words(self) -> list[int]:
        from rich.cells import cell_len

        return [max((cell_len(word) for row in [self.columns, *self.rows] if i < len(row) for word in row[i].split()),
                    default=1) for i in range(len(self.columns))]

    def _longest_cells(self) -> list[int]:
        from rich.cells import cell_len

        return [max((cell_len(row[i]) for row in [self.columns, *self.rows] if i < len(row)), default=1)
                for i in range(len(self.columns))]

    def fits(self, width: int) -> bool:
        return sum(self._longest_words()) + self.GAP * (len(self.columns) - 1) <= width - self.indent

    def widths(self, width: int) -> list[int]:
        """Each column at least its longest word; the room left shared by what each column still wants.

        rich's own sharing narrows the widest columns first, below their longest word if
        it must ("self-attentio/n"); sizing the columns here keeps every word whole.
        """
        low, high = self._longest_words(), self._longest_cells()
        sizes = list(low)
        room = width - self.indent - self.GAP * (len(sizes) - 1) - sum(sizes)
        while room > 0:
            wanting = [i for i in range(len(sizes)) if sizes[i] < high[i]]
            if not wanting:
                break
            total = sum(high[i] - sizes[i] for i in wanting)
            given = 0
            for i in wanting:
                share = min(high[i] - sizes[i], room * (high[i] - sizes[i]) // total)
                sizes[i] += share
                given += share
            if given == 0:  # less room than columns: one column at a time, most wanting first
                i = max(wanting, key=lambda k: high[k] - sizes[k])
                sizes[i] += 1
                given = 1
            room -= given
        return sizes

    def __rich_console__(self, console, options):
        from rich import box
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        if self.fits(options.max_width):
            grid = Table(
                box=box.SIMPLE_HEAD if self.colour else box.ASCII2, show_edge=False, pad_edge=False,
                padding=(0, 1), title=self.caption or None, title_justify="left",
                title_style="bold" if self.colour else "", header_style="bold" if self.colour else "", expand=False,
            )
            for name, size in zip(self.columns, self.widths(options.max_width)):
                grid.add_column(name, overflow="fold", width=size)
            for row in self.rows:
                grid.add_row(*row)
            yield Padding(grid, (0, 0, 0, self.indent)) if self.indent else grid
            return
        if self.caption:
            yield Padding(Text(self.caption, style="bold"), (0, 0, 0, self.indent))
        for row in self.rows:
            head = f"{self.columns[0]}: {row[0]}" if self.columns[0] else row[0]
            yield text(Text(head, style="bold"), indent=self.indent, hanging=self.indent + 2)
            for name, cell in zip(self.columns[1:], row[1:]):
                yield labelled(Text(" " * (self.indent + 2) + f"{name}: "), cell, hanging=self.indent + 4)


def code(source: str, language: str = "python", *, colour: bool, indent: int = 4) -> "RenderableType":
    """Source code, highlighted on a terminal, verbatim otherwise; a line too long for the width
    wraps at a space, its continuation indented further, so it cannot pass for a line of its own."""
    return Code(source.rstrip("\n"), language or "text", colour=colour, indent=indent)


class Code:
    """A rich renderable: code line by line, each a hanging-indented paragraph (course.terminal.Hanging)."""

    def __init__(self, source: str, language: str, *, colour: bool, indent: int):
        self.source, self.language, self.colour, self.indent = source, language, colour, indent

    def __rich_console__(self, console, options):
        from rich.text import Text

        if self.colour:
            from rich.syntax import Syntax

            body = Syntax(self.source, self.language, theme="ansi_dark", background_color="default") \
                .highlight(self.source)
        else:
            body = Text(self.source)
        body.rstrip()
        for line in body.split("\n", allow_blank=True):
            depth = len(line.plain) - len(line.plain.lstrip(" "))
            yield Hanging(Text(" " * self.indent), line, self.indent + depth + 4)


_MARKDOWN = None


def _markdown_class():
    """The course's Markdown: left-aligned headings, "1." list numbers, backticks kept in plain text."""
    global _MARKDOWN
    if _MARKDOWN is not None:
        return _MARKDOWN
    from rich import markdown as rm
    from rich.segment import Segment

    class Heading(rm.Heading):
        def __rich_console__(self, console, options):
            heading = self.text.copy()
            heading.justify = "left"
            heading.stylize("bold underline" if self.tag in ("h1", "h2") else "bold")
            yield heading

    class CodeBlock(rm.CodeBlock):
        def __rich_console__(self, console, options):
            lexer = self.lexer_name if self.lexer_name not in ("", "text", "default") else "python"
            yield code(str(self.text), lexer, colour=console.color_system is not None)

    class ListItem(rm.ListItem):
        def render_number(self, console, options, number, last_number):
            width = len(str(last_number)) + 3
            lines = console.render_lines(self.elements, options.update(width=options.max_width - width),
                                         style=self.style)
            numeral = Segment(f" {number}.".ljust(width))
            padding = Segment(" " * width)
            for index, line in enumerate(lines):
                yield numeral if index == 0 else padding
                yield from line
                yield Segment("\n")

        def render_bullet(self, console, options):
            lines = console.render_lines(self.elements, options.update(width=options.max_width - 3),
                                         style=self.style)
            bullet = Segment(" • " if console.color_system is not None else " - ")
            for index, line in enumerate(lines):
                yield bullet if index == 0 else Segment("   ")
                yield from line
                yield Segment("\n")

    class CourseMarkdown(rm.Markdown):
        elements = {**rm.Markdown.elements, "heading_open": Heading, "fence": CodeBlock, "code_block": CodeBlock,
                    "list_item_open": ListItem}

        def __init__(self, source: str, *, colour: bool):
            super().__init__(source, justify="left", hyperlinks=False)
            if not colour:  # plain text: `code` keeps its backticks, or it could not be told from prose
                for token in self.parsed:
                    for child in token.children or ():
                        if child.type == "code_inline":
                            child.content = f"`{child.content}`"

    _MARKDOWN = CourseMarkdown
    return _MARKDOWN


class Printer:
    """Prints as it goes (the quiz), through one rich Console."""

    def __init__(self, file=None, *, width: int | None = None, colour: bool | None = None):
        self.file = file if file is not None else sys.stdout
        self.colour = color(self.file) if colour is None else colour
        self.width = width or columns(self.file)
        self.console = console(self.file, width=self.width, colour=self.colour)

    def print(self, *renderables: Any, style: str = "") -> None:
        for item in renderables or ("",):
            self.console.print(item, style=style or None, crop=False)
        flush = getattr(self.file, "flush", None)
        if flush is not None:
            flush()
