"""Which dataset is shown, and how does the team import, check, activate or roll back a study export?"""

import copy

import pandas as pd
import streamlit as st

from queries import importer
from queries.contract import TABLES
from queries.dictionary import dictionary_markdown, template_xlsx
from queries.importer import ImportFailed, default_max_mapped_mb
from queries.mapping import MappingError
from queries.validate import problems_frame, validate
from ui import data
from ui import import_flow as flows
from ui.settings import DEFAULT_DATA, datasets_root, max_upload_mb
from ui.text import plain

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "parquet", "zip", "sav", "zsav", "dta", "toml"]
ADVANCED = "(as in the mapping file)"


@st.cache_data(show_spinner=False)
def _dictionary() -> str:
    return dictionary_markdown()


@st.cache_data(show_spinner=False)
def _template() -> bytes:
    return template_xlsx()


def _drop(flow: flows.Flow | None) -> None:
    """Forget this session's import in progress and remove its staged files (only its own)."""
    if flow is not None:
        flows.discard(flow)
    st.session_state.pop("import_flow", None)


def _failed(message: str) -> None:
    st.error(f"Import stopped: {plain(message)}. Nothing was changed.")


def _problems(lines: list[str]) -> None:
    st.error("The mapping cannot be used yet; nothing was changed:\n\n"
             + "\n\n".join(plain(line) for line in lines))


def _start(uploads: list, signature: tuple, root) -> flows.Flow | None:
    try:
        with st.spinner("Reading the files and preparing a mapping…"):
            flow = flows.start([(f.name, f.getvalue()) for f in uploads], root, max_upload_mb())
            flow.signature = signature
            if flow.direct:
                _stage_direct(flow, uploads, root)
            else:
                flows.run_preview(flow, root)
    except ImportFailed as exc:
        _failed(str(exc))
        return None
    except MappingError as exc:
        _problems(exc.problems)
        return None
    except Exception as exc:  # noqa: BLE001 -- a file no reader foresaw must not show a traceback
        _failed(f"the files could not be read ({type(exc).__name__})")
        return None
    return flow


def _stage_direct(flow: flows.Flow, uploads: list, root) -> None:
    notes: list[str] = []
    sources = importer.read_uploads([(f.name, f.getvalue()) for f in uploads], notes,
                                    max_upload_mb())
    if not sources:
        raise ImportFailed("no file is named after a contract table (patients, infusions, …)")
    flow.staged = importer.stage(sources, root, notes)
    flow.cache["preview"] = flows.preview_of(flow.staged)


def _column_form(flow: flows.Flow, edited: dict, table: str) -> None:
    book, gen = flow.book, flow.generation
    titles = flows.sheet_titles(book)
    current = flows.source_title(edited, table, book)
    options = titles if current else [ADVANCED, *titles]
    chosen = st.selectbox("Read from", options, index=options.index(current) if current else 0,
                          key=f"map{gen}-{table}-source")
    if chosen != (current or ADVANCED):
        flows.set_source(edited, table, chosen, book)
    columns = flows.source_columns(edited, table, book)
    groups = flows.repeat_rows(edited, table)
    for column in TABLES[table].columns:
        kind, value = flows.choice(edited[table].get(column.name))
        if kind == "none" and groups is not None and column.name in groups.columns:
            continue  # read from each group of repeated columns, in the table below
        options = [flows.NOT_MAPPED, flows.CONSTANT, *columns]
        if kind == "advanced" or (kind == "column" and value not in columns):
            options = [ADVANCED, *options]
            index = 0
        else:
            index = {"none": 0, "constant": 1}[kind] if kind != "column" else options.index(value)
        label = f"{column.name}{' (required)' if column.required else ''}"
        left, right = st.columns([3, 2])
        picked = left.selectbox(label, options, index=index, key=f"map{gen}-{table}-{column.name}",
                                help=column.description or None)
        if picked == ADVANCED:
            if kind == "advanced":
                right.code(flows.toml_value(value), language="toml")
            continue
        if picked == flows.CONSTANT:
            typed = right.text_input("constant value", value="" if kind != "constant" else str(value),
                                     key=f"map{gen}-{table}-{column.name}-constant")
            flows.set_column(edited, table, column.name, "constant",
                             flows.constant(typed, table, column.name))
        elif picked == flows.NOT_MAPPED:
            flows.set_column(edited, table, column.name, "none", None)
        else:
            flows.set_column(edited, table, column.name, "column", picked)
    if groups is not None:
        st.caption("Repeated columns: each row below is a group of your columns that gives one row of "
                   "the table (add a row for a new visit; a rule in { } is explained in docs/mapping.md).")
        config = {c: st.column_config.SelectboxColumn(
            c, options=list(dict.fromkeys([*columns, *groups[c].dropna()]))) for c in groups.columns}
        result = st.data_editor(groups, hide_index=True, num_rows="dynamic", column_config=config,
                                key=f"map{gen}-{table}-repeat")
        flows.set_repeat(edited, table, result)


def _value_maps(flow: flows.Flow, edited: dict) -> None:
    pairs = flows.enumerated(edited)
    if not pairs:
        st.markdown("No column with a fixed set of values is read from a source column.")
        return
    st.caption("Each value found in your files and the contract value it becomes; choose *exclude* "
               "to leave those patients out (they are counted in the report). Empty: not mapped.")
    for table, column in pairs:
        sources = tuple(flows.value_columns(edited, table, column))
        cache_key = ("values", flow.generation, table, column, sources)
        if cache_key not in flow.cache:
            flow.cache[cache_key] = flows.value_rows(edited, table, column, flow.book)
        rows = flow.cache[cache_key]
        st.markdown(f"**{table}.{column}**")
        result = st.data_editor(
            rows, hide_index=True, disabled=["source value", "label", "rows"],
            column_order=[c for c in rows.columns if c != "label" or rows["label"].any()],
            column_config={"contract value": st.column_config.SelectboxColumn(
                options=flows.target_options(table, column), required=False)},
            key=f"values{flow.generation}-{table}-{column}-{abs(hash(sources))}",
        )
        flows.set_values(edited, table, column, result)


def _mapping_step(flow: flows.Flow, root) -> None:
    st.markdown("**2. Mapping:** how your columns become the contract's tables")
    if flow.origin.startswith("version") and flow.previous:
        prev = flow.previous
        same = " (the very same files)" if prev["same_files"] else ""
        st.success(f"These files fit the sources of version {plain(prev['version'])}{same}, imported "
                   f"on {plain(prev['imported_at'])} by {plain(prev['imported_by'])}: its mapping is "
                   "used. Check the preview below and import.")
        if prev.get("new_columns"):
            st.warning("These columns were not in that export, so its mapping does not read them; "
                       "add them in the mapping if they should be imported: " + "; ".join(
                           f"{plain(where)}: {', '.join(plain(c) for c in cols)}"
                           for where, cols in prev["new_columns"].items()))
        if st.button("Use a fresh suggestion instead", key="map_suggest"):
            flows.use_suggestion(flow)
            flows.run_preview(flow, root)
            st.rerun()
    elif flow.origin == "suggested":
        st.info("This mapping was suggested from your column names and values. Check each table and "
                "the value maps, then preview.")
    elif flow.origin == "edited":
        st.info("Your edited mapping is used. Download it (Mapping file tab) to keep a copy; it is also "
                "saved with the version you import and offered again for the next export.")
    elif flow.origin.startswith("file"):
        st.info(f"The mapping of the uploaded file {plain(flow.mapping_name)} is used.")
    mapping_file = st.file_uploader("Use a mapping file instead (.toml)", type=["toml", "txt"],
                                    key="mapping_file")
    if mapping_file is not None and flow.mapping_signature != mapping_file.file_id:
        flow.mapping_signature = mapping_file.file_id
        try:
            text = flows.decode_mapping(mapping_file.getvalue(), mapping_file.name)
        except ImportFailed as exc:
            _failed(str(exc))
        else:
            flows.use_text(flow, text, f"file {mapping_file.name}", mapping_file.name)
            flows.run_preview(flow, root)
            st.rerun()

    if flow.origin.startswith("version") and not st.toggle("Check or change the mapping",
                                                           key=f"map{flow.generation}-open"):
        return
    parsed = flows.parse(flow.text)
    edited = copy.deepcopy(parsed) if parsed is not None else None
    columns_tab, values_tab, text_tab = st.tabs(["Columns", "Value maps", "Mapping file (TOML)"])
    if edited is None:
        columns_tab.warning("The mapping file is not valid TOML: fix it in the Mapping file tab.")
    else:
        with columns_tab:
            for table in TABLES:
                if isinstance(edited.get(table), dict):
                    with st.expander(table, expanded=table == "patients"):
                        _column_form(flow, edited, table)
            missing = [t for t in TABLES if t not in edited]
            if missing:
                st.caption("Not in the mapping: " + ", ".join(missing) + " (add a section in the "
                           "mapping file tab to read them).")
        with values_tab:
            _value_maps(flow, edited)
    with text_tab:
        st.caption("Everything the form cannot say (derived values, REDCap events, unit conversions, "
                   "date formats): docs/mapping.md. A change here is used when you press Preview.")
        typed = st.text_area("Mapping file", value=flow.text, height=420,
                             key=f"map{flow.generation}-text")
        st.download_button("Download this mapping", flow.text, file_name="mapping.toml",
                           mime="application/toml", key="map_download", on_click="ignore")
    form_changed = edited is not None and edited != parsed
    text_changed = typed != flow.text
    if form_changed and not text_changed:
        st.caption("You changed the mapping: press Preview to see what it gives.")
    if st.button("Preview", type="primary", key="map_preview"):
        if text_changed:
            flows.use_text(flow, typed, "edited", flow.mapping_name)
        elif form_changed:
            flows.use_text(flow, flows.apply_edits(flow.text, parsed, edited), "edited",
                           flow.mapping_name)
        with st.spinner("Reading your files through the mapping…"):
            flows.run_preview(flow, root)
        st.rerun()


def _preview_step(flow: flows.Flow, root, who: str) -> None:
    if flow.error:
        _problems(flow.error)
        return
    preview = flow.cache.get("preview")
    if preview is None:
        return
    step = 2 if flow.direct else 3
    st.markdown(f"**{step}. Preview:** the contract tables as they would be imported")
    if preview.notes:
        st.info("\n\n".join(plain(n) for n in preview.notes))
    counts = pd.DataFrame([{"table": t, "rows": preview.rows.get(t)} for t in TABLES
                           if t in preview.rows])
    st.dataframe(counts, hide_index=True)
    table = preview.problems
    if not table.empty:
        errors = int((table["severity"] == "error").sum())
        st.markdown(f"**{errors} error(s), {len(table) - errors} warning(s)**, each at its place in "
                    "your files:")
        st.dataframe(table, hide_index=True)
    if preview.heads:
        tabs = st.tabs(list(preview.heads))
        for tab, (name, head) in zip(tabs, preview.heads.items()):
            tab.caption(f"First {len(head)} of {preview.rows.get(name, 0):,} rows")
            tab.dataframe(head, hide_index=True)
    if preview.ok:
        label = "Activate this dataset" if flow.direct else "Import as a new version"
        if st.button(label, key="import_activate", type="primary"):
            try:
                if flow.direct:
                    version = importer.activate_staged(flow.staged, root, who, provenance={
                        "files": dict(flow.book.files), "sheets": flows.sheet_columns(flow.book)})
                    flow.staged = None
                else:
                    version = flows.import_version(flow, root, who)
            except (ImportFailed, OSError) as exc:
                _failed(str(exc))
                return
            st.session_state["import_done"] = (flow.signature, version)
            _drop(flow)
            st.rerun()
    else:
        st.warning("Fix the errors above (in the mapping, or in your files) before importing. The "
                   "dataset shown now is unchanged.")


if st.session_state.get("role") != "team":  # navigation leaves this page out for viewers; be sure
    st.error("Only the study team can import data.")
    st.stop()

st.title("Data")
st.caption("Import a study export, check it against the data contract, activate it, or switch back to an "
           "earlier version. Only the team sees this page.")

root = datasets_root()
location, version = data.current()
record = importer.active(root)
who = st.session_state.get("signed_in_user") or (st.user.get("email") if st.user.get("email") else "local user")

st.subheader("Dataset shown now")
if location == str(DEFAULT_DATA):
    st.markdown("The **synthetic demo cohort** (no real patients). Import a study export below to replace it.")
elif record and location == str(root / "versions" / record["version"]):
    st.markdown(f"Imported version **{plain(record['version'])}**, activated by "
                f"{plain(record['activated_by'])} on {plain(record['activated_at'])}.")
else:
    st.markdown("The folder set by the `RCE_DATA` setting:")
    st.code(location, language=None)
ds = data.dataset()
counts = ds.run("table_rows").assign(present=lambda d: d["table"].map(ds.has))
counts["rows"] = counts["rows"].where(counts["present"])  # an absent optional table: no count
st.dataframe(counts, hide_index=True)
if st.button("Check the shown dataset against the contract", key="check_current"):
    found = validate(location)
    if found:
        st.dataframe(problems_frame(found), hide_index=True)
    else:
        st.success("No problems found.")

st.subheader("Data dictionary and template")
st.markdown("What each table and column means, its type and allowed values, and the rules every import "
            "is checked against. The template is a workbook with a sheet per table, example rows and "
            "drop-downs: fill it in and upload it below as it is.")
st.download_button("Download the template (Excel)", _template(), file_name="template.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="template_download", on_click="ignore")
with st.expander("Data dictionary"):
    st.markdown(_dictionary())

st.subheader("Import a study export")
st.markdown(
    "Upload your study's files as they are: a clinic spreadsheet (one row per patient, repeated "
    "columns), a REDCap export with its data dictionary CSV, an SPSS `.sav` or Stata `.dta` file, or "
    "files already shaped like the template (one per table, or one workbook with a sheet per table). "
    "The app suggests how your columns map to the contract, you check it, see a preview with every "
    "problem, and import it as a new version. A mapping file (.toml) saved from an earlier import may "
    f"be uploaded with the files. Up to {max_upload_mb():g} MB per file; a study's own files read "
    f"through a mapping up to {default_max_mapped_mb():g} MB together."
)
uploads = st.file_uploader("Study files", type=FILE_TYPES, accept_multiple_files=True,
                           key="import_files", max_upload_size=int(max_upload_mb()))
signature = tuple((f.name, f.size, f.file_id) for f in uploads) if uploads else None
flow = st.session_state.get("import_flow")
done = st.session_state.get("import_done")
if done and done[0] == signature:
    st.success(f"Version {plain(done[1])} is now active for everyone. Remove the files above to start "
               "another import.")
elif signature and (flow is None or flow.signature != signature):
    _drop(flow)
    flow = _start(uploads, signature, root)
    if flow is not None:
        st.session_state["import_flow"] = flow
elif not signature and flow is not None and flow.signature is not None:
    _drop(flow)  # the files were removed from the upload box
    flow = None
if not signature:
    st.session_state.pop("import_done", None)

flow = st.session_state.get("import_flow")
if flow is not None and not (done and done[0] == signature):
    st.markdown("**1. Files:** " + ", ".join(plain(n) for n in flow.files))
    if flow.direct:
        st.caption("These files are already the contract's tables: they are read as they are.")
    else:
        _mapping_step(flow, root)
    _preview_step(flow, root, who)

st.subheader("Versions")
known = importer.versions(root)
if not known:
    st.markdown("No imported versions yet.")
else:
    active_id = record["version"] if record else None
    listing = pd.DataFrame([
        {"version": v["id"], "active": v["id"] == active_id, "imported by": v.get("imported_by"),
         "imported at": v.get("imported_at"), "patients": v.get("rows", {}).get("patients"),
         "from files": ", ".join((v.get("provenance") or {}).get("files") or {}) or None}
        for v in known
    ])
    st.dataframe(listing, hide_index=True)
    choice = st.selectbox("Version", listing["version"], key="version_choice")
    if st.button("Switch to this version", key="version_switch", disabled=choice == active_id):
        importer.activate(root, choice, who)
        st.success(f"Version {choice} is now active.")
        st.rerun()
    mapping_text = next(((v.get("provenance") or {}).get("mapping") for v in known
                         if v["id"] == choice), None)
    if isinstance(mapping_text, str):
        st.download_button("Download the mapping of this version", mapping_text,
                           file_name=f"mapping-{choice}.toml", mime="application/toml",
                           key="version_mapping_download", on_click="ignore")
