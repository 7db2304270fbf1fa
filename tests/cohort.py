"""Write tiny contract datasets inside tests: rows as dicts, sensible defaults, one parquet file per table."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

D = dt.date

TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "double": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}


FIRST, LAST = D(2020, 1, 1), D(2021, 1, 1)


def patient(pid: str, subtype: str = "RRMS", first=FIRST, last=LAST, **kw) -> dict:
    """A patients row with defaults for every required column."""
    return {
        "patient_id": pid, "subtype": subtype, "sex": kw.pop("sex", "F"),
        "age_at_first_dose": kw.pop("age", 40.0), "baseline_edss": kw.pop("edss", 3.0),
        "first_dose_date": first, "last_followup_date": last, **kw,
    }


def doses(ids: list[str], first: dt.date, days: tuple[int, ...], dose_mg: float = 500.0,
          course: int = 1) -> list[dict]:
    """Infusions rows: every patient dosed on each of these days after first, patient by patient."""
    return [
        {"patient_id": pid, "dose_date": first + dt.timedelta(days=d), "dose_mg": dose_mg,
         "course": course}
        for pid in ids
        for d in days
    ]


def write(folder: Path, **tables: list[dict] | pd.DataFrame | None) -> Path:
    """Write the given tables (required ones default to empty) as parquet with the contract's types."""
    from queries.contract import TABLES

    folder.mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        rows = tables.get(name, [] if table.required else None)
        if rows is None:
            continue
        df = pd.DataFrame(rows)
        columns = [c for c in table.columns if c.name in df.columns or (df.empty and c.required)]
        fields = [pa.field(c.name, TYPES[c.type]) for c in columns]
        extra = [c for c in df.columns if c not in {f.name for f in fields}]
        arrays = {}
        for f in fields:
            values = df[f.name].tolist() if f.name in df.columns else []
            arrays[f.name] = pa.array(values, type=f.type)
        for name_ in extra:
            arrays[name_] = pa.array(df[name_].tolist())
        pq.write_table(pa.table(arrays), folder / f"{name}.parquet")
    return folder
