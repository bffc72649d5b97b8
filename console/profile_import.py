"""`campaigns profiles import`: stream a file to the API in chunks with a progress bar and a summary."""

from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from store.client import CampaignsClient
from store.models.profile import ImportSummary
from store.import_chunks import iter_import_chunks
from store.import_repeats import RepeatedIds

from . import output

SHOWN_REJECTIONS = 20


async def import_profiles(client: CampaignsClient, path: Path, *, as_json: bool) -> int:
    total = ImportSummary()
    with Progress(TextColumn("importing {task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn(), console=output.err,
                  transient=True, disable=not output.err.is_terminal) as progress:  # a bar only for a person
        task = None
        repeats = RepeatedIds()
        for chunk in iter_import_chunks(path):
            if task is None:
                task = progress.add_task(path.name, total=chunk.bytes_total, rows=0)
            chunk, repeated = repeats.screen(chunk)
            summary = await client.import_profiles_chunk(chunk.format, chunk.text, chunk.first_line, chunk.header)
            for rejection in repeated:
                summary.reject(rejection.line, rejection.reason)
            summary.rejections.sort(key=lambda r: r.line)
            total.add(summary)
            progress.update(task, completed=chunk.bytes_done, rows=total.imported + total.updated + total.rejected)
    if as_json:
        output.print_json(total.model_dump(mode="json"))
    else:
        output.out.print(f"imported {total.imported:,}, updated {total.updated:,}, rejected {total.rejected:,}", markup=False)
        for r in total.rejections[:SHOWN_REJECTIONS]:
            output.out.print(f"  line {r.line}: {r.reason}", markup=False)
        if total.rejected > SHOWN_REJECTIONS:
            output.out.print(f"  … and {total.rejected - SHOWN_REJECTIONS:,} more (use --json for the full list)", markup=False)
    return 0 if total.rejected == 0 else 3

