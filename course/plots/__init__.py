"""Pictures: the lesson figures (`course figures`) and their shared look.

`style` is the one place for colours, sizes and saving; `figures` draws a lesson's
charts and heatmaps with matplotlib; `diagram` turns graph figures into Graphviz
drawings. matplotlib is imported only when a picture is drawn, never when this
package (or the `course` command) is imported.
"""
