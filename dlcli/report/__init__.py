"""HTML reports: one self-contained page (no network, pictures embedded as data: URIs) of a run,
of several runs side by side, of a sweep, or of the book's reproduction table.

- `rendering`: the Jinja2 templates (`templates/base.html.j2` is every page's frame), autoescaped,
  and the relative, percent-encoded links between pages;
- `page`: what one run's page shows, read through `dlcli.runs` (only the run's own files);
- `pictures`: matplotlib figures and a run's PNGs as data: URIs;
- `comparison`: the page of several runs (what differs); `sweep`: a sweep's page (its trials);
- `book` (the rows and counts) and `book_page` (the page) of `dlcli report --book`;
- `run_report`: one run's report.html, and the page written when a training ends;
- `writing`: which page RUN... asks for, where it goes, writing it; a sweep's page when it ends.
"""

from dlcli.report.run_report import training_report, write_run_report
from dlcli.report.writing import report, sweep_report

__all__ = ["report", "sweep_report", "training_report", "write_run_report"]
