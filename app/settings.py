"""What the chat can be set to: the Settings panel's values and the server's options.

Choices and defaults come from :mod:`re3g.config`: the chat starts where the library does, so it
answers as measured (until session 50 it retrieved 10 passages, not ``Config.k``'s 20, and lost
pages a user moved on to; docs/app.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.config import GENERATORS, MODES, Config
from re3g.errors import Re3GError

_DEFAULTS = Config()

MAX_MESSAGE_CHARS = 2000
"""Longest message accepted, in characters (longer ones are refused with a message)."""
SESSION_IDLE_S = 3600
"""A session whose state was not used for this long ends (Gradio drops its state) and its
private uploads are deleted; a closed or reloaded browser tab ends its session at once."""
UPLOAD_CACHE_MAX_AGE_S = 3600
"""Gradio deletes uploaded files older than this from its cache (checked as often)."""
MIN_CONFIDENCE: float | None = None
"""Default threshold: None uses the pipeline's own (0.30 with the dense-fallback extractor,
0.20 with a trained extractor). The app hands its threshold to the pipeline, whose
``Answer.grounded`` is the decision the app displays."""


@dataclass(frozen=True)
class Settings:
    """What a user can change in the Settings panel.

    >>> Settings()
    Settings(mode='hybrid', k=20, rerank=False, generator='extractive')
    >>> Settings("bm25", 3.0, 1).checked()
    Settings(mode='bm25', k=3, rerank=True, generator='extractive')
    """

    mode: str = _DEFAULTS.mode
    k: int = _DEFAULTS.k
    rerank: bool = False
    generator: str = _DEFAULTS.generator

    def checked(self) -> Settings:
        """A copy with every field validated (values come from the browser)."""
        if self.mode not in MODES:
            raise Re3GError(f"unknown retrieval mode {self.mode!r}; choose one of {MODES}")
        if self.generator not in GENERATORS:
            raise Re3GError(f"unknown generator {self.generator!r}; choose one of {GENERATORS}")
        try:
            k = int(self.k)
        except (TypeError, ValueError) as exc:
            raise Re3GError(f"number of passages must be a whole number, got {self.k!r}") from exc
        if not 1 <= k <= 50:
            raise Re3GError(f"number of passages must be between 1 and 50, got {k}")
        return Settings(self.mode, k, bool(self.rerank), self.generator)


@dataclass
class AppConfig:
    """Everything ``build_app`` needs; ``re3g chat`` fills it from its options.

    ``pipeline_config`` is the parsed ``re3g.toml`` (``Config.load(path)``, read once): every
    pipeline the app builds starts from it, and its ``[code]`` table configures the code tool
    unless ``code`` is given.

    >>> cfg = AppConfig(indexes_dir="indexes", min_confidence=0.3,
    ...                 pipeline_config=Config.from_dict({"code": {"model": "smollm2"}}))
    >>> cfg.pipeline_overrides(), cfg.code_spec()
    ({'min_confidence': 0.3}, {'model': 'smollm2'})
    """

    indexes_dir: Path = Path("indexes")
    default_corpus: str = "sample"
    share_uploads: bool = False
    concurrency: int = 2
    min_confidence: float | None = MIN_CONFIDENCE
    pipeline_config: Config = field(default_factory=Config)
    settings: Settings = field(default_factory=Settings)
    max_message_chars: int = MAX_MESSAGE_CHARS
    title: str = "re3g · chat over documents"
    code: dict[str, Any] | None = None  # code-tool LLM spec; None: pipeline_config's [code]
    code_auto: bool = True  # route programming questions to the code tool automatically
    feedback_file: Path | None = None  # None: <indexes_dir>/feedback/feedback.jsonl

    def __post_init__(self) -> None:
        self.indexes_dir = Path(self.indexes_dir)
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")

    @property
    def feedback_path(self) -> Path:
        """Where thumbs up/down and "right passage" choices are appended (JSON lines)."""
        if self.feedback_file is not None:
            return Path(self.feedback_file)
        return self.indexes_dir / "feedback" / "feedback.jsonl"

    def pipeline_overrides(self) -> dict[str, Any]:
        """What the app asks of every pipeline beyond ``pipeline_config`` (its threshold)."""
        return {} if self.min_confidence is None else {"min_confidence": self.min_confidence}

    def code_spec(self) -> dict[str, Any] | None:
        """The code tool's LLM spec: ``code``, else the config's [code] table, else None (the
        packaged offline default)."""
        if self.code is not None:
            return self.code
        spec = dict(self.pipeline_config.code)
        spec.pop("enabled", None)
        return spec or None
