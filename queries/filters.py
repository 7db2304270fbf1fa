"""The patient selection every query honours: one struct parameter, $filters, read by the
selected_patients macro (queries/sql/selected_patients.sql). A new filter is a field here and a line
there."""

from dataclasses import asdict, dataclass, field, fields

DEFAULT_IGG_THRESHOLD = 7.0


@dataclass(frozen=True)
class Filters:
    """Which patients are selected; None means no bound, an empty tuple selects nobody."""

    followup_min: float | None = None
    followup_max: float | None = None
    doses_min: int | None = None
    doses_max: int | None = None
    subtypes: tuple[str, ...] | None = None
    sexes: tuple[str, ...] | None = None
    sites: tuple[str, ...] | None = None
    age_min: float | None = None
    age_max: float | None = None
    igg_threshold: float = field(default=DEFAULT_IGG_THRESHOLD)

    def __post_init__(self) -> None:
        for name in ("subtypes", "sexes", "sites"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    def params(self) -> dict[str, object]:
        """The filters as the $filters struct every query binds (lists for the sets)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def echo(self) -> dict[str, object]:
        """The filters as the summary's "filters" object."""
        return self.params()

    def is_narrowed(self) -> bool:
        """True when any selection bound is set (the threshold is not a selection)."""
        return any(
            getattr(self, f.name) is not None for f in fields(self) if f.name != "igg_threshold"
        )

