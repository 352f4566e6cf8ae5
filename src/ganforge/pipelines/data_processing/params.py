"""The ``data:`` parameters, parsed once so that every node sees the same checked values."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ganforge.errors import ConfigError, validation_problems

DEFAULT_RAW_PATH = "data/01_raw"
#: ``data.*`` keys that only some sources read; each source lists the ones it reads (sources/)
SOURCE_OPTIONS = ("background", "style", "label_field", "skin_tones")


class ValidationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_failure: Literal["fail", "warn"] = "fail"
    class_balance_tolerance: float = Field(0.5, ge=0)
    # Class shares of a small random sample scatter widely; below this expected count per class
    # the balance check would fail on sampling noise alone, so it is skipped (and reported so).
    class_balance_min_expected: int = Field(50, ge=0)
    max_reported_ids: int = Field(20, ge=1)


class DataParams(BaseModel):
    # extra="forbid": a misspelt key (``limt: 10``) is an error rather than silently ignored.
    model_config = ConfigDict(extra="forbid")

    source: str = "mnist_builtin"
    path: str | None = None
    #: fetch missing files (torchvision sets, the emoji packages); null = the source's default
    download: bool | None = None
    split: Literal["train", "test"] = "train"
    image_size: int = Field(28, gt=0)
    channels: Literal[1, 3] = 1
    resize: bool = True
    limit: int | None = Field(None, gt=0)
    seed: int = 0
    value_range: tuple[float, float] | None = None
    num_classes: int | None = Field(None, gt=0)
    num_workers: int | None = Field(None, gt=0)
    #: [k, n]: keep only the k-th (from 0) of n disjoint parts of the (shuffled, limited) images,
    #: so that two domains drawn from one source never share an image
    part: tuple[int, int] | None = None
    #: a derived domain (CoGAN's digit experiments): negative = inverted intensities, edges = the
    #: outline of each stroke (morphological gradient, 3×3)
    transform: Literal["none", "negative", "edges"] = "none"
    #: where model_input keeps its images: ``memory`` (inside the one .pt file), ``shards``
    #: (uint8 .npy shards beside it, memory-mapped when read; an image folder is then decoded a
    #: shard at a time, never whole) or ``auto`` (shards when the decoded set is larger than
    #: ``memory_budget_gb``)
    storage: Literal["auto", "memory", "shards"] = "auto"
    memory_budget_gb: float = Field(4.0, gt=0)
    shard_size: int = Field(4096, gt=0)
    #: where shards wait between ingest and the save of model_input (moved on, then removed)
    staging_path: str = "data/02_intermediate/staging"
    #: what transparent pixels are composited onto: a colour name ("white"), "#rrggbb" or
    #: [r, g, b]; null = the source's default (black for image folders, white for emoji)
    background: str | tuple[int, int, int] | None = None
    #: emoji: which drawing of the emoji (google | twitter)
    style: str | None = None
    #: emoji: the labels (category | subcategory | none)
    label_field: str | None = None
    #: emoji: keep the skin-tone variants (five more images of most people emoji)
    skin_tones: bool | None = None
    validation: ValidationParams = Field(default_factory=ValidationParams)

    @field_validator("background")
    @classmethod
    def _colour(cls, value: str | tuple[int, int, int] | None) -> str | tuple[int, int, int] | None:
        if value is not None:
            parse_colour(value)
        return value

    @field_validator("value_range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"must be [low, high] with low < high, got {list(value)}")
        return value

    @field_validator("part")
    @classmethod
    def _valid_part(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 0 <= value[0] < value[1]:
            raise ValueError(f"must be [k, n] with 0 <= k < n, got {list(value)}")
        return value

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        """``background`` as an RGB triple (black while no source default has been applied)."""
        return parse_colour(self.background if self.background is not None else "black")

    @property
    def root(self) -> str:
        return self.path if self.path is not None else DEFAULT_RAW_PATH

    def stores_shards(self, image_count: int, image_bytes: int | None = None) -> bool:
        """Whether ``image_count`` decoded uint8 images (of ``image_bytes`` each; by default
        channels × image_size²) are kept as shards rather than in memory."""
        if self.storage != "auto":
            return self.storage == "shards"
        decoded_bytes = image_count * (image_bytes or self.channels * self.image_size**2)
        return decoded_bytes > self.memory_budget_gb * 1024**3


def parse_colour(value: str | tuple[int, int, int] | list[int]) -> tuple[int, int, int]:
    """A colour name, ``#rrggbb`` or three 0..255 integers → (r, g, b); ValueError otherwise."""
    if isinstance(value, str):
        from PIL import ImageColor

        try:
            red, green, blue = ImageColor.getrgb(value)[:3]
        except ValueError:
            raise ValueError(f"'{value}' is not a colour; use a name (white, black, gray), #rrggbb or "
                             "[r, g, b]") from None
        return red, green, blue
    channels = tuple(value)
    if len(channels) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in channels):
        raise ValueError(f"{list(channels)} is not a colour; give three integers 0..255, e.g. [255, 255, 255]")
    return channels  # type: ignore[return-value]


def parse_data_params(raw: dict[str, Any] | DataParams | None) -> DataParams:
    """Check ``params:data``: bad values become one ConfigError (``data.source`` is checked
    against the table of readers, ``sources.check_source``)."""
    if isinstance(raw, DataParams):
        return raw
    raw = dict(raw or {})
    try:
        return DataParams.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"Invalid data parameters: {validation_problems(error, 'data')}.") from None
