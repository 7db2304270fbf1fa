"""The app's pages in navigation order: script, title, icon, URL path."""

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "app_pages"


@dataclass(frozen=True)
class PageSpec:
    script: str
    title: str
    icon: str
    url_path: str

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.script


ANALYSIS = (
    PageSpec("overview.py", "Overview", ":material/dashboard:", "overview"),
    PageSpec("subtypes.py", "Disease subtypes", ":material/category:", "subtypes"),
    PageSpec("relapse_free_survival.py", "Relapse-free survival", ":material/show_chart:", "survival"),
    PageSpec("edss.py", "EDSS change", ":material/accessible:", "edss"),
    PageSpec("safety.py", "Safety", ":material/health_and_safety:", "safety"),
    PageSpec("virtual_care.py", "Virtual care", ":material/forum:", "virtual-care"),
)
REPORT = PageSpec("report.py", "Report", ":material/description:", "report")
DATA = PageSpec("data.py", "Data", ":material/database:", "data")
