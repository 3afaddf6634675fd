"""Configuration from the environment (DESIGN §7). Every default is safe for a laptop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from peer_review.domain.models import DEFAULT_THEMES, IDENTIFIER, ReviewPolicy
from peer_review.domain.retention import DEFAULT_RETENTION_YEARS

# The Customer Journey's key stages. ASSUMPTION: the department's guidance names the stages but this
# project was not given the list; these follow the usual complaint journey and are meant to be replaced
# with PEER_REVIEW_JOURNEY_STAGES.
DEFAULT_JOURNEY_STAGES = [
    "Acknowledgement",
    "Investigation",
    "Contact with the customer",
    "Response",
    "Remedy",
]

CommaList = Annotated[list[str], NoDecode]
SLA_STEPS = (
    "chair_decision",
    "reviewer_assignment",
    "review",
    "legal_clearance",
    "sign_off",
    "recommendation_decide",
    "recommendation_implement_local",
    "recommendation_implement_national",
    "recommendation_verify",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEER_REVIEW_", extra="ignore", frozen=True)

    temporal_address: str = Field(
        "localhost:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS", "PEER_REVIEW_TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        "default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "PEER_REVIEW_TEMPORAL_NAMESPACE")
    )
    # The same variables as the temporal CLI's, so one environment serves both.
    temporal_tls_cert: Path | None = Field(None, validation_alias=AliasChoices("TEMPORAL_TLS_CERT"))
    temporal_tls_key: Path | None = Field(None, validation_alias=AliasChoices("TEMPORAL_TLS_KEY"))
    temporal_tls_ca: Path | None = Field(None, validation_alias=AliasChoices("TEMPORAL_TLS_CA"))
    temporal_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("TEMPORAL_API_KEY"))
    task_queue: str = "peer-review"
    records_url: str = "sqlite+aiosqlite:///.data/records.db"
    directory: Path = Path("examples/directory.yaml")
    key_file: Path = Path(".data/peer-review.key")
    # Unless set, both live beside the payload key ring. The chain key ring keys the audit chain's HMAC (the worker
    # and auditors hold it, the database never does); the signing key ring holds the keys that sign proofs of the
    # acting person (`operator-` keys for the CLI, `api-` keys for the HTTP API; the worker holds both to check).
    chain_key_file: Path | None = None
    signing_key_file: Path | None = None
    notify: Literal["outbox", "smtp"] = "outbox"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "peer-review@example.gov.uk"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    notify_give_up_hours: float = 24.0
    internal_domains: CommaList = ["example.gov.uk"]
    journey_stages: CommaList = DEFAULT_JOURNEY_STAGES
    # ASSUMPTION: the guidance sets no service levels; these working-day defaults are the design's.
    sla_chair_decision_days: int = 5
    sla_reviewer_assignment_days: int = 5
    sla_review_days: int = 20
    sla_legal_clearance_days: int = 5
    sla_sign_off_days: int = 5
    # Tracked recommendations (ASSUMPTION, like the review's: the guidance sets none): working days to accept or
    # decline, to implement (from acceptance), and to verify.
    sla_recommendation_decide_days: int = 10
    sla_recommendation_implement_local_days: int = 40
    sla_recommendation_implement_national_days: int = 60
    sla_recommendation_verify_days: int = 10
    # The controlled vocabulary of recommendation themes (YAML: `themes: [...]`); unset, the documented default set.
    themes_file: Path | None = None
    codec_host: str = "127.0.0.1"
    codec_port: int = 8234
    codec_allowed_origins: CommaList = ["http://localhost:8233", "http://127.0.0.1:8233"]
    metrics_port: int | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    shutdown_grace_seconds: float = 30.0
    # Workflows kept in memory between tasks. A review waits days between actions, so replaying its short
    # history now and then is cheaper than holding thousands of idle reviews in memory (the SDK's default
    # is 1000; the benchmark's scale-at-rest figure is what this trades against).
    max_cached_workflows: int = 300
    # ASSUMPTION (peer_review.domain.retention): the department's period was not available; 7 years after closure.
    retention_years: int = Field(DEFAULT_RETENTION_YEARS, ge=0, le=100)

    @field_validator("internal_domains", "journey_stages", "codec_allowed_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("internal_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        return [domain.lower().lstrip("@") for domain in value]

    def environment(self) -> dict[str, str]:
        """These settings as the environment variables they are read from, so that another process (a worker,
        the command line) started with them reads exactly the same settings."""
        variables: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue
            alias = field.validation_alias
            variable = str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"PEER_REVIEW_{name.upper()}"
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, list):
                value = ",".join(value)
            variables[variable] = str(value)
        return variables

    @property
    def chain_keys_path(self) -> Path:
        return self.chain_key_file or self.key_file.with_name("peer-review-chain.key")

    @property
    def signing_keys_path(self) -> Path:
        return self.signing_key_file or self.key_file.with_name("peer-review-signing.key")

    @property
    def policy(self) -> ReviewPolicy:
        # Each PEER_REVIEW_SLA_<STEP>_DAYS becomes the policy's <step>_days.
        days = {f"{step}_days": getattr(self, f"sla_{step}_days") for step in SLA_STEPS}
        return ReviewPolicy(
            journey_stages=self.journey_stages,
            notification_give_up_hours=self.notify_give_up_hours,
            themes=load_themes(self.themes_file) if self.themes_file else list(DEFAULT_THEMES),
            **days,
        )


def load_themes(path: Path) -> list[str]:
    """The themes vocabulary from YAML (`themes: [communication, timeliness, ...]`); a bad file names the problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"themes file {path}: {error}") from None
    themes = document.get("themes") if isinstance(document, dict) else None
    if (
        not isinstance(themes, list)
        or not themes
        or not all(isinstance(t, str) and IDENTIFIER.fullmatch(t) for t in themes)
    ):
        raise ValueError(f"themes file {path}: `themes` must be a list of identifiers (letters, digits, . _ -)")
    return list(dict.fromkeys(themes))
