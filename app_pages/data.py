"""Which dataset is shown, and how does the team import, check, activate or roll back a study export?"""

import pandas as pd
import streamlit as st

from queries import importer
from queries.validate import problems_frame, validate
from ui import data
from ui.settings import DEFAULT_DATA, datasets_root, max_upload_mb

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
    st.markdown(f"Imported version **{record['version']}**, activated by {record['activated_by']} "
                f"on {record['activated_at']}.")
else:
    st.markdown(f"The folder set by the `RCE_DATA` setting: `{location}`.")
ds = data.dataset()
counts = pd.DataFrame(
    [{"table": t, "rows": int(ds.sql(f"select count(*) as n from {t}")["n"].iloc[0]) if ds.has(t) else None,
      "present": ds.has(t)} for t in ("patients", "infusions", "relapses", "edss", "mri", "labs",
                                       "adverse_events", "engagement")]
)
st.dataframe(counts, hide_index=True)
if st.button("Check the shown dataset against the contract", key="check_current"):
    found = validate(location)
    if found:
        st.dataframe(problems_frame(found), hide_index=True)
    else:
        st.success("No problems found.")

st.subheader("Import a study export")
st.markdown(
    "One file per table, named after it (`patients.csv`, `infusions.xlsx`, `adverse_events.parquet`, …), "
    "one Excel workbook with a sheet per table, or one zip of them. CSV may use `,` or `;` and decimal "
    f"commas; UTF-8 or Windows-1252; dates as YYYY-MM-DD or DD/MM/YYYY. Up to {max_upload_mb():g} MB per file."
)
uploads = st.file_uploader(
    "Files", type=["csv", "tsv", "txt", "xlsx", "parquet", "zip"], accept_multiple_files=True,
    key="import_files", max_upload_size=int(max_upload_mb()),
)
if st.button("Check these files", key="import_check", disabled=not uploads, type="primary"):
    notes: list[str] = []
    try:
        sources = importer.read_uploads([(f.name, f.getvalue()) for f in uploads], notes, max_upload_mb())
        if not sources:
            raise importer.ImportFailed("no file is named after a contract table (patients, infusions, …)")
        previous = st.session_state.pop("staged", None)
        if previous is not None:
            importer.clean_staging(root)
        st.session_state["staged"] = importer.stage(sources, root, notes)
    except importer.ImportFailed as exc:
        st.error(f"Import stopped: {exc}. Nothing was changed.")

staged = st.session_state.get("staged")
if staged is not None and staged.path.exists():
    for note in staged.notes:
        st.info(note)
    table = problems_frame(staged.problems)
    errors = int((table["severity"] == "error").sum()) if not table.empty else 0
    rows = ", ".join(f"{t} {n:,}" for t, n in staged.rows.items())
    if staged.problems:
        st.markdown(f"**{sum(p.severity == 'error' for p in staged.problems)} error(s), "
                    f"{sum(p.severity == 'warning' for p in staged.problems)} warning(s)** — rows read: {rows}")
        st.dataframe(table, hide_index=True)
    else:
        st.success(f"No problems found. Rows read: {rows}")
    if staged.ok:
        if st.button("Activate this dataset", key="import_activate", type="primary"):
            new = importer.activate_staged(staged, root, who)
            st.session_state.pop("staged")
            st.success(f"Version {new} is now active for everyone.")
            st.rerun()
    else:
        st.warning(f"{errors} problem row(s) above must be fixed in the files before the dataset can be "
                   "activated. The dataset shown now is unchanged.")

st.subheader("Versions")
known = importer.versions(root)
if not known:
    st.markdown("No imported versions yet.")
else:
    active_id = record["version"] if record else None
    listing = pd.DataFrame([
        {"version": v["id"], "active": v["id"] == active_id, "imported by": v.get("imported_by"),
         "imported at": v.get("imported_at"), "patients": v.get("rows", {}).get("patients")}
        for v in known
    ])
    st.dataframe(listing, hide_index=True)
    choice = st.selectbox("Version", listing["version"], key="version_choice")
    if st.button("Switch to this version", key="version_switch", disabled=choice == active_id):
        importer.activate(root, choice, who)
        st.success(f"Version {choice} is now active.")
        st.rerun()
