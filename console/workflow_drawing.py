"""A workflow drawn as text: boxes left to right, arrows between them, each arrow named (and counted).

Pure layout and drawing, no widgets: the console's canvas shows these lines and `campaigns show` prints them.
An activity's column is the longest path to it from a source; a transition that spans several columns passes
through the columns between on a row of its own, so arrows never cross a box. Each transition leaves its source
by a port of its own (a row of the box's right side) and enters its target by another, so branching and merging
read as separate arrows. Cost is linear in the activities and transitions plus the drawing's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from store.models import WorkflowCounts
from store.models.workflow import CHANNELS, KIND_LABELS, ActivityCount, ActivityKind, Wait, Workflow
from store.text import printable

from .display import short_when

BOX_WIDTH = 22  # the borders and 20 characters of text
NAME_CHARS = 24  # a transition's name on its arrow, cut beyond
BOX_LINES = 3  # label, id, detail
SELECTED = "reverse"


@dataclass
class Box:
    """Where an activity is drawn (columns and lines of the drawing)."""

    id: str
    column: int
    x: int
    y: int
    height: int


@dataclass
class _Node:
    """A box, or the pass-through of a long transition in a column between its ends."""

    column: int
    activity_id: str | None  # None: a pass-through
    height: int
    order: int  # ties keep the written order
    top: int = 0
    ins: list[_Segment] = field(default_factory=list)
    outs: list[_Segment] = field(default_factory=list)


@dataclass
class _Segment:
    """A transition's stretch between two neighbouring columns."""

    transition: int  # its index in workflow.transitions
    source: _Node
    target: _Node
    first: bool  # carries the name and count
    last: bool  # ends with the arrowhead
    out_row: int = 0
    in_row: int = 0


@dataclass
class Layout:
    """Columns of activity ids top to bottom, each activity's box, and the size of the drawing."""

    columns: list[list[str]]
    boxes: dict[str, Box]
    width: int
    height: int
    undrawn: list[int]  # transitions that could not be drawn (unknown activity, or on a cycle): listed below
    column_x: list[int] = field(default_factory=list)
    _nodes: list[list[_Node]] = field(default_factory=list, repr=False)
    _gaps: list[tuple[int, int, int]] = field(default_factory=list, repr=False)  # start x, label width, lanes


def _columns(workflow: Workflow) -> tuple[dict[str, int], list[int]]:
    """Each activity's column (longest path from a source) and the transitions that cannot be drawn forward."""
    try:
        ordered = [a.id for a in workflow.order()]
    except ValueError:
        ordered = []
    column = {a.id: 0 for a in workflow.activities}
    outbound: dict[str, list[int]] = {}
    for index, t in enumerate(workflow.transitions):
        if t.source in column and t.to in column:
            outbound.setdefault(t.source, []).append(index)
    if ordered:
        for activity_id in ordered:
            for index in outbound.get(activity_id, ()):
                target = workflow.transitions[index].to
                column[target] = max(column[target], column[activity_id] + 1)
    undrawn = [i for i, t in enumerate(workflow.transitions)
               if not ordered or t.source not in column or t.to not in column]
    return column, undrawn


def _label(workflow: Workflow, index: int, counts: dict[tuple[str, str, str], int | None]) -> str:
    t = workflow.transitions[index]
    name = printable(t.name)
    name = name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"
    count = counts.get((t.source, t.to, t.name))
    return f" {name} {count:,} " if count is not None else f" {name} "


def layout(workflow: Workflow, counts: WorkflowCounts | None = None) -> Layout:
    """Place every activity: columns left to right, boxes top to bottom, near the rows their inputs leave by."""
    column, undrawn = _columns(workflow)
    skip = set(undrawn)
    written = {a.id: i for i, a in enumerate(workflow.activities)}
    n_columns = max(column.values(), default=-1) + 1
    nodes: dict[str, _Node] = {}
    by_column: list[list[_Node]] = [[] for _ in range(n_columns)]
    degree_in = {a.id: 0 for a in workflow.activities}
    degree_out = {a.id: 0 for a in workflow.activities}
    for index, t in enumerate(workflow.transitions):
        if index not in skip:
            degree_out[t.source] += 1
            degree_in[t.to] += 1
    for a in workflow.activities:
        node = _Node(column[a.id], a.id, 2 + max(BOX_LINES, degree_in[a.id], degree_out[a.id]), written[a.id])
        nodes[a.id] = node
        by_column[node.column].append(node)
    gap_segments: list[list[_Segment]] = [[] for _ in range(max(n_columns - 1, 0))]
    for index, t in enumerate(workflow.transitions):
        if index in skip:
            continue
        source, target = nodes[t.source], nodes[t.to]
        chain = [source] + [_Node(c, None, 1, written[t.source]) for c in range(source.column + 1, target.column)]
        for passing in chain[1:]:
            by_column[passing.column].append(passing)
        chain.append(target)
        for left, right in zip(chain, chain[1:]):
            segment = _Segment(index, left, right, first=left is source, last=right is target)
            left.outs.append(segment)
            right.ins.append(segment)
            gap_segments[left.column].append(segment)
    for c, column_nodes in enumerate(by_column):
        _place(column_nodes, first=c == 0)
    count_of = {(tc.source, tc.to, tc.name): tc.count for tc in counts.transitions} if counts else {}
    gaps, x, xs = [], 0, []
    for c in range(n_columns):
        xs.append(x)
        x += BOX_WIDTH
        if c < n_columns - 1:
            labels = [len(_label(workflow, s.transition, count_of)) for s in gap_segments[c] if s.first]
            lanes = sum(1 for s in gap_segments[c] if s.out_row != s.in_row)
            label_width = max(labels, default=0) + 2
            gaps.append((x, label_width, lanes))
            x += label_width + lanes + 2
    boxes = {a.id: Box(a.id, nodes[a.id].column, xs[nodes[a.id].column], nodes[a.id].top, nodes[a.id].height)
             for a in workflow.activities}
    columns = [[n.activity_id for n in col if n.activity_id is not None] for col in by_column]
    height = max((n.top + n.height for col in by_column for n in col), default=0)
    return Layout(columns, boxes, x, height, undrawn, xs, by_column, gaps)


def _place(column_nodes: list[_Node], *, first: bool) -> None:
    """Top to bottom near where their inputs come from, without overlap; then their ports."""
    def wanted(node: _Node) -> float:
        if first or not node.ins:
            return -1.0
        mean = sum(s.out_row for s in node.ins) / len(node.ins)
        return mean - (0 if node.activity_id is None else 1)

    column_nodes.sort(key=lambda n: (wanted(n), n.order) if not first else n.order)
    cursor = 0
    for node in column_nodes:
        node.top = max(cursor, round(wanted(node)))
        cursor = node.top + node.height + 1
        if node.activity_id is None:
            for s in node.ins:
                s.in_row = node.top
            for s in node.outs:
                s.out_row = node.top
            continue
        for row, s in enumerate(sorted(node.ins, key=lambda s: s.out_row), start=node.top + 1):
            s.in_row = row
        for row, s in enumerate(node.outs, start=node.top + 1):
            s.out_row = row


class _Canvas:
    """Rows of characters with styled spans; a vertical line over a horizontal one makes a crossing."""

    def __init__(self, width: int, height: int) -> None:
        self.rows = [[" "] * width for _ in range(height)]
        self.styles: list[list[tuple[int, int, str]]] = [[] for _ in range(height)]

    def put(self, x: int, y: int, text: str, style: str = "") -> None:
        self.rows[y][x:x + len(text)] = list(text)
        if style:
            self.styles[y].append((x, x + len(text), style))

    def vertical(self, x: int, y: int) -> None:
        self.rows[y][x] = "┼" if self.rows[y][x] == "─" else "│"

    def lines(self) -> list[Text]:
        out = []
        for chars, spans in zip(self.rows, self.styles):
            line = Text("".join(chars).rstrip())
            for start, end, style in spans:
                line.stylize(style, start, end)
            out.append(line)
        return out


def _detail(workflow: Workflow, activity_id: str, count: ActivityCount | None) -> str:
    """The box's third line: what a run or test says about it, else its kind when a label names it."""
    activity = workflow.activity(activity_id)
    kind = ActivityKind(activity.kind)
    if count is not None:
        if count.state.value in ("failed", "stopped"):
            return count.state.value
        if kind in CHANNELS and count.counters is not None:
            return f"sent {count.counters.sent:,}"
        if count.wait_until is not None:
            return f"until {short_when(count.wait_until)}"
    if isinstance(activity, Wait):
        return f"wait {activity.duration}" if activity.duration else f"until {short_when(activity.until)}"
    return KIND_LABELS[kind] if activity.label else ""


def _fit(text: str) -> str:
    inner = BOX_WIDTH - 4
    return (text if len(text) <= inner else text[:inner - 1] + "…").ljust(inner)


def draw(workflow: Workflow, counts: WorkflowCounts | None = None, selected: str | None = None, *,
         plan: Layout | None = None) -> list[Text]:
    """The styled lines of the drawing (``plan``: a layout made already with the same counts)."""
    plan = plan or layout(workflow, counts)
    canvas = _Canvas(plan.width, plan.height)
    activity_counts = {c.id: c for c in counts.activities} if counts else {}
    count_of = {(tc.source, tc.to, tc.name): tc.count for tc in counts.transitions} if counts else {}
    for column_nodes in plan._nodes:
        for node in column_nodes:
            if node.activity_id is None:
                canvas.put(plan.column_x[node.column], node.top, "─" * BOX_WIDTH)
            else:
                _draw_box(canvas, workflow, plan.boxes[node.activity_id], node,
                          activity_counts.get(node.activity_id), selected == node.activity_id)
    for c, (start, label_width, _lanes) in enumerate(plan._gaps):
        _draw_gap(canvas, workflow, plan, c, start, label_width, count_of)
    lines = canvas.lines()
    for index in plan.undrawn:
        t = workflow.transitions[index]
        lines.append(Text(printable(f"not drawn: {t.name}: {t.source} → {t.to}"), style="dim"))
    return lines


def _draw_box(canvas: _Canvas, workflow: Workflow, box: Box, node: _Node, count: ActivityCount | None,
              selected: bool) -> None:
    activity = workflow.activity(box.id)
    label = printable(activity.label) or KIND_LABELS[ActivityKind(activity.kind)]
    style = SELECTED if selected else ""
    canvas.put(box.x, box.y, "┌" + "─" * (BOX_WIDTH - 2) + "┐", style)
    texts = [(label, "bold"), (box.id, "dim"), (_detail(workflow, box.id, count), "italic")]
    out_rows = {s.out_row for s in node.outs}
    for row in range(1, box.height - 1):
        text, text_style = texts[row - 1] if row <= len(texts) else ("", "")
        y = box.y + row
        right = "├" if y in out_rows else "│"
        canvas.put(box.x, y, "│ " + _fit(text) + " " + right, style)
        canvas.styles[y].append((box.x + 2, box.x + BOX_WIDTH - 2, text_style))
    canvas.put(box.x, box.y + box.height - 1, "└" + "─" * (BOX_WIDTH - 2) + "┘", style)


def _draw_gap(canvas: _Canvas, workflow: Workflow, plan: Layout, c: int, start: int, label_width: int,
              count_of: dict) -> None:
    """Every segment between column c and c+1: its name and count, a lane of its own when it bends."""
    end = start + label_width + plan._gaps[c][2] + 2  # the next column's first character
    segments = [s for node in plan._nodes[c] for s in node.outs]
    bent = [s for s in segments if s.out_row != s.in_row]
    up = sorted((s for s in bent if s.in_row < s.out_row), key=lambda s: s.out_row)
    down = sorted((s for s in bent if s.in_row > s.out_row), key=lambda s: -s.out_row)
    lane_of = {id(s): start + label_width + i for i, s in enumerate(down + up)}
    for s in segments:
        label = _label(workflow, s.transition, count_of) if s.first else ""
        head = "▶" if s.last else "─"
        lane = lane_of.get(id(s))
        turn = lane if lane is not None else end - 1
        canvas.put(start, s.out_row, ("─" + label).ljust(turn - start, "─"))
        if s.first:
            canvas.styles[s.out_row].append((start + 1, start + 1 + len(label), "bold"))
        if lane is None:
            canvas.put(end - 1, s.out_row, head)
            continue
        canvas.put(lane + 1, s.in_row, "─" * (end - lane - 2) + head)
    for s in bent:  # after every horizontal, so that a vertical over one is drawn as a crossing
        lane = lane_of[id(s)]
        going_down = s.in_row > s.out_row
        for y in range(min(s.out_row, s.in_row) + 1, max(s.out_row, s.in_row)):
            canvas.vertical(lane, y)
        canvas.put(lane, s.out_row, "┐" if going_down else "┘")
        canvas.put(lane, s.in_row, "└" if going_down else "┌")


def workflow_text(workflow: Workflow, counts: WorkflowCounts | None = None) -> str:
    """The drawing as plain text, for `campaigns show`."""
    return "\n".join(line.plain for line in draw(workflow, counts))
