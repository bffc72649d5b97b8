"""The workflow drawn on a scrollable canvas: only the lines on screen are rendered (the line API), so a
200-activity workflow repaints as cheaply as a small one. Arrow keys move the selection along transitions
(left/right) and within a column (up/down), and scroll it into view."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.models import WorkflowCounts
from store.models.workflow import Workflow

from ..workflow_drawing import BOX_WIDTH, Layout, draw, layout


class WorkflowCanvas(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    WorkflowCanvas { height: 1fr; background: $surface; }
    """
    BINDINGS = [
        Binding("left", "move('left')", "Input", show=False, id="canvas.left", tooltip="The activity before"),
        Binding("right", "move('right')", "Output", show=False, id="canvas.right", tooltip="The activity after"),
        Binding("up", "move('up')", "Above", show=False, id="canvas.up", tooltip="The activity above in its column"),
        Binding("down", "move('down')", "Below", show=False, id="canvas.down",
                tooltip="The activity below in its column"),
    ]

    class Selected(Message):
        """The selection moved (the screen's footer and palette depend on it)."""

        def __init__(self, activity_id: str | None) -> None:
            super().__init__()
            self.activity_id = activity_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.workflow = Workflow()
        self.counts: WorkflowCounts | None = None
        self.plan: Layout = layout(self.workflow)
        self.lines: list[Text] = []
        self.selected: str | None = None
        self._strips: dict[int, Strip] = {}

    def show(self, workflow: Workflow, counts: WorkflowCounts | None, select: str | None = None) -> None:
        """Draw ``workflow`` (with ``counts`` on its transitions); the selection stays where it can."""
        self.workflow, self.counts = workflow, counts
        self.plan = layout(workflow, counts)
        self.lines = draw(workflow, counts, plan=self.plan)
        self._strips.clear()
        self.virtual_size = Size(max((line.cell_len for line in self.lines), default=0), len(self.lines))
        wanted = select or self.selected
        if wanted not in self.plan.boxes:
            wanted = next((column[0] for column in self.plan.columns if column), None)
        self.select(wanted)
        self.refresh()

    def select(self, activity_id: str | None) -> None:
        self.selected = activity_id
        self.refresh()
        if activity_id is not None:
            box = self.plan.boxes[activity_id]
            self.call_after_refresh(self.scroll_to_region, Region(box.x, box.y, BOX_WIDTH, box.height),
                                    animate=False, spacing=None)
        self.post_message(self.Selected(activity_id))

    def action_move(self, direction: str) -> None:
        target = self._neighbour(direction)
        if target is not None:
            self.select(target)

    def _neighbour(self, direction: str) -> str | None:
        """Left/right: the nearest activity (by line) among the transitions' other ends, else in the next
        column; up/down: the activity above or below in the same column."""
        if self.selected is None:
            return None
        box = self.plan.boxes[self.selected]
        if direction in ("up", "down"):
            same = self.plan.columns[box.column]
            index = same.index(self.selected) + (1 if direction == "down" else -1)
            return same[index] if 0 <= index < len(same) else None
        if direction == "right":
            ends = [t.to for t in self.workflow.outbound(self.selected)]
            column = box.column + 1
        else:
            ends = [t.source for t in self.workflow.inbound(self.selected)]
            column = box.column - 1
        ends = [e for e in ends if e in self.plan.boxes]
        if not ends and 0 <= column < len(self.plan.columns):
            ends = self.plan.columns[column]
        return min(ends, key=lambda e: abs(self.plan.boxes[e].y - box.y), default=None)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line_y = scroll_y + y
        width = self.scrollable_content_region.width
        if line_y >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        box = self.plan.boxes.get(self.selected) if self.selected else None
        if box is not None and box.y <= line_y < box.y + box.height:
            text = self.lines[line_y].copy()
            text.stylize("reverse", box.x, box.x + BOX_WIDTH)
            strip = self._strip(text)
        else:
            cached = self._strips.get(line_y)
            if cached is None:
                cached = self._strips[line_y] = self._strip(self.lines[line_y])
            strip = cached
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _strip(self, text: Text) -> Strip:
        return Strip(list(text.render(self.app.console)))
