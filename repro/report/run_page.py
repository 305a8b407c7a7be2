"""One page per run: curves, schedules, epochs, cost rows, provenance, and the run's own files
beside it (hard-linked where that is safe, else copied) so the page works as plain files offline.

A run page is a pure function of its run directory; repro.report.collect decides which pages are
stale, and a cold build spreads them over the machine's cores.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shlex
import shutil
import stat
from numbers import Number
from pathlib import Path

from jinja2.exceptions import UndefinedError
from markupsafe import Markup

from repro.harness.store import RUN_FILE, read_json
from repro.report.collect import RUN_FILES
from repro.report.format import duration, html_text as _text, percent, safe_url, usd
from repro.report.run_charts import curves_svg, schedule_svg

PARALLEL_THRESHOLD = 400  # below this many pages, starting worker processes costs more than it saves

_JOBS: tuple[list[dict], Path] | None = None  # shared with forked workers


def flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    """Nested provenance → (dotted key, text) rows, in the order the record has them."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            rows += flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and prefix.endswith("command"):
        rows.append((prefix, shlex.join(str(v) for v in value)))
    elif isinstance(value, list):
        rows.append((prefix, ", ".join(str(v) for v in value)))
    else:
        rows.append((prefix, "—" if value is None else str(value)))
    return rows


def _required(epoch, key: str):
    """An epoch field the table cannot do without: missing, the page fails as the template's
    strict undefined made it fail when it looked the field up itself."""
    try:
        return epoch[key]
    except (KeyError, TypeError, IndexError):
        raise UndefinedError(f"{type(epoch).__name__} object has no attribute {key!r}") from None


def _fixed(pattern: str, value) -> str:
    """`pattern % value` for numbers (Jinja's `is number`: bools and Decimals too), else —."""
    if type(value) is float or type(value) is int or isinstance(value, Number):
        return pattern % (value,)
    return "—"


def _percent2(value) -> str:
    if type(value) is float or type(value) is int or isinstance(value, Number):
        return percent(value, 2)
    return "—"




def _or_dash(value) -> str:
    return _text(value) if value else "—"


_EPOCH_ROW = ("<tr><td>{}</td><td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td></tr>")


def epoch_rows(epochs: list) -> Markup:
    """The epochs table's rows, as HTML: formatted here rather than by filters in the template
    (at 24 epochs a run, the per-cell lookups and filter calls were half of a page's render).
    Values taken as they are get escaped; formatted numbers and dashes need no escaping."""
    rows = []
    for e in epochs:
        number, elapsed = _required(e, "epoch"), _required(e, "elapsed_s")
        image_size, batch_size = _required(e, "image_size"), _required(e, "batch_size")
        get = e.get
        rows.append(_EPOCH_ROW.format(
            _text(number), _text(duration(elapsed)), _fixed("%.4f", get("train_loss")),
            _fixed("%.4f", get("eval_loss")), _percent2(get("top1")),
            _percent2(get("top5")), _fixed("%.4g", get("lr")),
            _fixed("%.3g", get("momentum")),
            _text(image_size) if image_size is not None else "—",
            _text(batch_size) if batch_size is not None else "—",
            _fixed("%.0f", get("images_per_s"))))
    return Markup("\n  ".join(rows))


_COST_ROW = ('<tr class="cost-row"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\n'
             "    <td>{}</td><td>{} ({})</td>\n"
             "    <td>{} ({})</td><td>{}</td>\n"
             "    <td>{}</td></tr>")


def cost_rows(costs: list[dict], unmatched: list) -> Markup:
    """The cost table's rows (one per offer priced, one per market with no offer), as HTML."""
    rows = []
    for c in costs:
        url = safe_url(c.get("source"))
        if url:
            source = f'<a href="{_text(url)}">{_text(c.get("fetched_at") or "source")}</a>'
        else:
            source = f'{_text(c.get("source") or "—")} {_text(c.get("fetched_at") or "")}'
        rows.append(_COST_ROW.format(
            _text(c.get("provider")), _text(c.get("market")), _text(c.get("instance_type")),
            _or_dash(c.get("region")), _text(usd(c.get("usd_per_hour"))),
            _text(usd(c.get("benchmark_usd"))), _text(duration(c.get("benchmark_seconds"))),
            _text(usd(c.get("billed_usd"))), _text(duration(c.get("billed_seconds"))),
            _or_dash(c.get("billing_rule")), source))
    for u in unmatched:
        get = u.get if isinstance(u, dict) else (lambda key: _required(u, key))
        rows.append(f'<tr class="unmatched"><td>{_text(get("provider"))}</td>'
                    f'<td>{_text(get("market"))}</td><td colspan="7">no offer: '
                    f'{_text(get("reason"))}</td></tr>')
    return Markup("\n  ".join(rows))


def provenance_rows(provenance: dict) -> Markup:
    return Markup("\n  ".join(f"<tr><th>{_text(key)}</th><td><code>{_text(value)}</code></td></tr>"
                              for key, value in flatten(provenance)))


def _write(path: str, text: str) -> None:
    # Run pages are regenerated from results at will and the manifest that vouches for them is
    # written last, so a crash mid-build costs a redraw, not a wrong page: no fsync per file.
    # A file already there is replaced, never written through: it may be a hard link that
    # another page (or a run directory) shares.
    data = text.encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        os.unlink(path)
        fd = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


STAGING_PREFIX = ".staging-"
_STAGING: dict[tuple[str, int], str] = {}   # (site, pid) → that process's staging folder


def _write_staged(out_dir: Path | str, path: str, text: str) -> None:
    """Write a page in a folder private to this process, then rename it into place.

    Readers never see half a page, and the slow part of making a file (finding a free inode: on
    this machine's ext4 it can look at thousands of recently freed ones) happens while holding
    only the private folder's lock, not the recipe folder's that every worker writes into (two
    workers creating files in one folder took turns at it). The rename itself allocates nothing."""
    key = (str(out_dir), os.getpid())
    staging = _STAGING.get(key)
    if staging is None:
        staging = f"{out_dir}/runs/{STAGING_PREFIX}{os.getpid()}"
        os.makedirs(staging, exist_ok=True)
        _STAGING[key] = staging
    temp = f"{staging}/{os.path.basename(path)}"
    _write(temp, text)
    os.replace(temp, path)


def clear_staging(out_dir: Path | str) -> None:
    """Remove the staging folders of a finished build (empty unless a writer died mid-page)."""
    for key in [k for k in _STAGING if k[0] == str(out_dir)]:
        del _STAGING[key]
    try:
        with os.scandir(f"{out_dir}/runs") as entries:
            stale = [e.path for e in entries if e.name.startswith(STAGING_PREFIX) and e.is_dir()]
    except FileNotFoundError:
        return
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)


# Statuses after which the harness no longer writes a run's files in place (pricing replaces
# cost.json atomically, which gives it a new inode): only these runs' files are hard-linked.
ENDED_STATUSES = ("finished", "diverged", "failed")

_TEMPLATE = None


def run_template():
    """run.html.j2, compiled once per process (forked workers inherit the parent's)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        from repro.report.build import make_environment
        _TEMPLATE = make_environment().get_template("run.html.j2")
    return _TEMPLATE


def place_file(source: str, target: str, link: bool, mode: int | None = None) -> None:
    """Put a run's file beside its page: a hard link when allowed (no bytes copied: a cold build
    of 10,000 runs places 40,000 files), a copy across filesystems or when linking fails.

    Linked only when the source is readable by group and others (the harness writes run.json
    through a private temp file, 0600, and a link shares the mode where a copy gets the umask's).
    `mode` is the source's st_mode when the caller has just stat'ed it."""
    if link:
        try:
            if mode is None:
                mode = os.stat(source).st_mode
            if mode & 0o044 == 0o044:
                _link(source, target)
                return
        except OSError:   # EXDEV (another filesystem), EPERM, EMLINK …: copy instead
            pass
    _unlink(target)
    shutil.copyfile(source, target)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except FileExistsError:   # a redraw: the old file (or link) goes, never written through
        os.unlink(target)
        os.link(source, target)


_SHARED: dict[str, str] = {}   # drawing → a file of this build already holding exactly it


def _write_shared(path: str, text: str) -> None:
    """_write, or a hard link to a file this process already wrote with the same text: runs of
    one recipe share their schedule, and each new file costs an inode on a cold build."""
    first = _SHARED.get(text)
    if first is not None:
        try:
            _link(first, path)
            return
        except OSError:
            pass
    _write(path, text)
    if len(_SHARED) >= 256:
        _SHARED.clear()
    _SHARED[text] = path


def new_build() -> None:
    """Forget the files of earlier builds: pages link only to files of the build being drawn."""
    _SHARED.clear()
    _FOLDERS.clear()


_FOLDERS: set[str] = set()   # recipe folders this process made or saw


def _ensure_folder(path: str) -> None:
    if path not in _FOLDERS:
        os.makedirs(path, exist_ok=True)
        _FOLDERS.add(path)


# What a run page consists of, by suffix on its stem runs/<recipe>/<run>: the page, the run's
# own files, its schedule figure (the curves are inline in the page).
RUN_FILE_SUFFIXES = tuple(f".{name}" for name in RUN_FILES)
PAGE_SUFFIXES = (".html", ".schedule.svg", *RUN_FILE_SUFFIXES)


def remove_run_page(out_dir: Path, page: str) -> None:
    """Delete every file of a run's page (the run left results/)."""
    for suffix in PAGE_SUFFIXES:
        _unlink(f"{out_dir}/{page}{suffix}")
    try:
        os.rmdir(os.path.dirname(f"{out_dir}/{page}"))   # the recipe's last run went
    except OSError:
        pass


def render_run_page(template, run: dict, out_dir: Path, data: dict | None = None,
                    stats: dict[str, os.stat_result | None] | None = None) -> Path:
    """Draw one run's page; `data` is its parsed run.json and `stats` the os.stat of its files
    (collect.stat_run_files) when the caller has them."""
    source_dir = run["source_dir"]
    run_data = read_json(Path(source_dir) / RUN_FILE) if data is None else data
    stem = f"{out_dir}/{run['page']}"
    page = stem + ".html"
    _ensure_folder(os.path.dirname(stem))
    redraw = os.path.lexists(page)    # then files of the last drawing may need to go
    link = run["status"] in ENDED_STATUSES
    name_here = os.path.basename(stem)
    files = []
    for name in RUN_FILES:
        source = f"{source_dir}/{name}"
        if stats is not None:
            mode = None if stats[name] is None else stats[name].st_mode
        else:
            try:
                mode = os.stat(source).st_mode
            except (FileNotFoundError, NotADirectoryError):
                mode = None
        if mode is not None and stat.S_ISREG(mode):
            place_file(source, f"{stem}.{name}", link, mode)
            files.append((name, f"{name_here}.{name}"))
        elif redraw:
            _unlink(f"{stem}.{name}")
    epochs = (run_data.get("outcome") or {}).get("epochs") or []
    if epochs:
        # the schedule (a function of the recipe) is one file hard-linked across runs; the
        # curves differ per run and go inline, so a page costs one new file, not two
        _write_shared(f"{stem}.schedule.svg", schedule_svg(run_data))
    elif redraw:
        _unlink(f"{stem}.schedule.svg")
    _write_staged(out_dir, page, template.render(
        root="../" * run["page"].count("/"), run=run, data=run_data, epochs=epochs,
        epoch_rows=epoch_rows(epochs), files=files,
        cost_rows=cost_rows(run["costs"], run["unmatched"]), schedule_href=f"{name_here}.schedule.svg",
        curves_svg=Markup(curves_svg(run_data)) if epochs else None,
        provenance_rows=provenance_rows(run_data.get("provenance") or {}),
        config_json=json.dumps(run_data.get("config"), indent=2, sort_keys=True, default=str),
        has_plots=bool(epochs)))
    return Path(page)


def _render_chunk(indices: list[int]) -> int:
    runs, out_dir = _JOBS
    template = run_template()
    for i in indices:
        render_run_page(template, runs[i], out_dir)
    return len(indices)


def write_run_pages(runs: list[dict], stale: list[int], out_dir: Path) -> None:
    """Render the pages of runs[i] for i in stale, in worker processes when there are many."""
    global _JOBS
    _JOBS = (runs, Path(out_dir))
    new_build()
    try:
        workers = min(os.cpu_count() or 1, 8)
        if len(stale) >= PARALLEL_THRESHOLD and workers > 1 and \
                "fork" in multiprocessing.get_all_start_methods():
            chunks = [stale[k::workers] for k in range(workers)]
            run_template()   # compiled once here, inherited by every worker
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.map(_render_chunk, chunks)
        elif stale:
            _render_chunk(stale)
    finally:
        _JOBS = None
        clear_staging(out_dir)
