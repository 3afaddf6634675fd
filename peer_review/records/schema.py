"""The records database's tables: the long-term system of record, outliving Temporal's retention.

One projection row per review, append-only audit events (chained by keyed MACs, and on PostgreSQL guarded by a
trigger), recommendations, the notification outbox, and the access log of who read which full record.

Column sizes hold the largest value the service can write (tests/records/test_column_sizes.py checks each
against the contracts), so no valid input can make a batch fail on a database that enforces them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from peer_review.domain.proofs import MAX_ATTRIBUTION

metadata = MetaData()

# A record's id: a referral id (at most 64 characters) or a recommendation id (a referral id and "-R100").
RECORD_ID_WIDTH = 72


def _review_summary() -> list[Column[Any]]:
    """A review's summary columns: which review, where, at what level, why, whether mandatory and how it ended.

    The referrals row has them, and disposed_reviews keeps them once retention has destroyed that row, so the
    learning reports count and group a review the same way before and after its disposal. A function, because a
    Column belongs to one table.
    """
    return [
        Column("referral_id", String(64), primary_key=True),
        Column("osn", String(64), nullable=False),
        Column("referral_level", String(16), nullable=False),
        Column("reasons", String(200), nullable=False),
        Column("mandatory", Boolean),
        Column("outcome", String(16)),
    ]


referrals = Table(
    "referrals",
    metadata,
    *_review_summary(),
    # Both references find other reviews of the same case or customer (reported at refer, shown to reviewers).
    Column("case_reference", String(64), nullable=False, index=True),
    Column("customer_reference", String(64), index=True),
    # Who referred: the read rule lets a referrer read their own referrals (nullable only for older databases,
    # whose rows get it from their referral when the schema is brought up to date).
    Column("referred_by", String(64), index=True),
    Column("site", String(200), nullable=False),
    Column("priority", String(16)),
    Column("status", String(32), nullable=False),
    Column("chair", String(64)),
    # A reviewer's list is theirs alone: found by this index, not by reading every review.
    Column("reviewer", String(64), index=True),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("referral_json", Text, nullable=False),
    Column("findings_json", Text),
    # The deadlines in force for this review (a ReviewPolicy), so `status --as-of` can say what was due when.
    Column("policy_json", Text),
    # The review's StatusView as of `last_seq`: pages show it while Temporal's search attributes agree with it
    # (PeerReviewClient.current_status), instead of asking the workflow.
    Column("view_json", Text),
    # Under a legal hold: never disposed of until released (the holds themselves are in the retention register).
    Column("held", Boolean),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The retention run looks for closed reviews by when they were last recorded.
    Index("ix_referrals_status_updated_at", "status", "updated_at"),
    # When the review moved into `closed` (set by the database as that move is appended: SPAN_TRIGGERS); the
    # reports count closures from it.
    Column("closed_at", DateTime(timezone=True)),
    # Covering: the reports count reviews referred or closed in a period, by month, OSN, outcome or reason, from
    # the index alone (the rows are wide: the referral and findings documents).
    Index("ix_referrals_referred_period", "created_at", "osn", "outcome", "reasons"),
    Index("ix_referrals_closed_period", "closed_at", "osn", "outcome", "reasons"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # A referral id, or a tracked recommendation's id (RECORD_ID_WIDTH): each has a chain of its own.
    Column("referral_id", String(RECORD_ID_WIDTH), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32)),
    Column("detail", Text),
    # How the acting person was proven, e.g. "operator alice for S100".
    Column("proven_by", String(MAX_ATTRIBUTION)),
    Column("previous_hash", String(64), nullable=False),
    # HMAC-SHA-256 under the chain key named by key_id (peer_review.domain.audit_chain). Rows of a database from
    # before the chain was keyed have none, and do not verify.
    Column("hash", String(64), nullable=False),
    Column("key_id", String(64)),
    UniqueConstraint("referral_id", "seq", name="uq_audit_referral_seq"),
    # Reports: reviews closed in a period, and the moves into each status.
    Index("ix_audit_events_to_status_at", "to_status", "at"),
)

# The Customer Journey stages of signed-off findings, one row per stage: the reports count the stages found not
# followed by stage and OSN without reading any findings document.
journey_stages = Table(
    "journey_stages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", String(64), nullable=False),
    Column("osn", String(64), nullable=False),
    Column("stage", String(200), nullable=False),
    # yes, partly or no (peer_review.domain.models.JourneyStage).
    Column("followed", String(8), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("referral_id", "stage", name="uq_journey_stage"),
    # Covering: the stages report reads the index alone.
    Index("ix_journey_stages_followed_recorded", "followed", "recorded_at", "stage", "osn"),
)

# The register of tracked recommendations: one row per recommendation of signed-off findings, kept up to date by
# its RecommendationWorkflow (whose audit events are in audit_events under recommendation_id).
recommendations = Table(
    "recommendations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", String(64), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("recommendation_id", String(RECORD_ID_WIDTH), unique=True),
    Column("level", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("theme", String(64)),
    Column("stage", String(200)),
    Column("osn", String(64)),
    Column("status", String(16), nullable=False, default="proposed"),
    Column("due_at", DateTime(timezone=True)),
    Column("overdue", Boolean),
    Column("rationale", Text),
    Column("evidence", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("implemented_at", DateTime(timezone=True)),
    Column("verified_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    UniqueConstraint("referral_id", "position", name="uq_recommendation_position"),
    # The register: one owner's items, overdue first; by status and level; reports by theme and month.
    Index("ix_recommendations_owner_status", "owner", "status"),
    Index("ix_recommendations_status_overdue_due", "status", "overdue", "due_at"),
    Index("ix_recommendations_level_status", "level", "status"),
    Index("ix_recommendations_osn", "osn"),
    Index("ix_recommendations_theme_recorded", "theme", "recorded_at"),
    # Covering: the reports on recommendations of a period (by status, theme, time to implementation) read it alone.
    Index("ix_recommendations_recorded", "recorded_at", "status", "overdue", "theme", "implemented_at"),
)

# Each stay in a status, from the move into it to the next move out (reviews and recommendations alike): the
# reports' time in each status, read in order of length from the covering index instead of pairing the moves of the
# whole audit table at report time. Written by the database itself as each move is appended (SPAN_TRIGGERS).
status_spans = Table(
    "status_spans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(RECORD_ID_WIDTH), nullable=False),
    Column("status", String(32), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("left_at", DateTime(timezone=True), nullable=False),
    Column("seconds", Float, nullable=False),
    Index("ix_status_spans_status_seconds", "status", "seconds", "entered_at"),
    # How many stays of each status a period holds, read from the period's range alone.
    Index("ix_status_spans_status_entered", "status", "entered_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("idempotency_key", String(200), primary_key=True),
    Column("referral_id", String(RECORD_ID_WIDTH), nullable=False, index=True),
    Column("recipient", String(64), nullable=False),
    Column("address", String(254)),
    Column("step", String(64), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every read of a full record (and every refused read): who, what, when. `what` is a read's name (status, audit,
# history, export, list, ...); `reader` a staff id as given, cut to the column.
access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("reader", String(64), nullable=False, index=True),
    Column("what", String(32), nullable=False),
    Column("referral_id", String(64), index=True),
    Column("channel", String(16), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("proven_by", String(MAX_ATTRIBUTION)),
)


# Legal holds, releases and disposal certificates, in one keyed chain (peer_review.domain.register): what remains
# of a disposed review, and the record of every hold on one.
retention_register = Table(
    "retention_register",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("referral_id", String(64), nullable=False, index=True),
    Column("actor", String(MAX_ATTRIBUTION), nullable=False),
    Column("document", Text, nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
)

# One aggregate row per disposed review, with no personal data: what the learning reports count once the record
# itself is gone. `run` names the retention run that disposed of it, so a run's counts are read back exactly even
# when a batch was retried after a crash.
disposed_reviews = Table(
    "disposed_reviews",
    metadata,
    *_review_summary(),
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("disposed_at", DateTime(timezone=True), nullable=False),
    Column("run", String(200), nullable=False, index=True),
    Column("local_recommendations", Integer, nullable=False),
    Column("national_recommendations", Integer, nullable=False),
    Column("audit_events", Integer, nullable=False),
    Column("notifications", Integer, nullable=False),
    Column("access_log", Integer, nullable=False),
)


# On PostgreSQL the database itself refuses to change or remove an audit row; the hash chain still catches
# anyone who disables the trigger first.
APPEND_ONLY_TRIGGER = [
    """CREATE OR REPLACE FUNCTION peer_review_audit_is_append_only() RETURNS trigger AS $$
    BEGIN
        -- Disposal at the end of the retention period is the one removal allowed, and only once the review's
        -- disposal certificate is in the retention register (written in the same transaction, before the rows go).
        IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM retention_register WHERE referral_id = OLD.referral_id AND kind = 'disposal'
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION peer_review_audit_is_append_only()""",
    # The retention register is append-only outright.
    """CREATE OR REPLACE FUNCTION peer_review_register_is_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'retention_register is append-only: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS retention_register_append_only ON retention_register",
    """CREATE TRIGGER retention_register_append_only BEFORE UPDATE OR DELETE ON retention_register
    FOR EACH ROW EXECUTE FUNCTION peer_review_register_is_append_only()""",
]

# The database derives what the reports read from each audit event as it is appended (so no writer can forget it,
# and a test that writes events directly gets them too): a review's referral row is written before its events.
# A move is an event with a status that differs from the one it came from; the stay it ends began at the record's
# previous move (the highest seq below it). `{seconds}` is the dialect's difference of two moments in seconds.
_PREVIOUS_MOVE = """
    INSERT INTO status_spans (record_id, status, entered_at, left_at, seconds)
    SELECT NEW.referral_id, previous.to_status, previous.at, NEW.at, {seconds}
    FROM audit_events AS previous
    WHERE previous.referral_id = NEW.referral_id AND previous.seq < NEW.seq AND previous.to_status IS NOT NULL
      AND (previous.from_status IS NULL OR previous.from_status <> previous.to_status)
    ORDER BY previous.seq DESC LIMIT 1"""
_IS_MOVE = "NEW.to_status IS NOT NULL AND (NEW.from_status IS NULL OR NEW.from_status <> NEW.to_status)"

CLOSED_AT = """
    UPDATE referrals SET closed_at = NEW.at
    WHERE referral_id = NEW.referral_id AND closed_at IS NULL"""
# Rows of a database from before closed_at was kept get it from their audit record.
FILL_CLOSED_AT = """
    UPDATE referrals SET closed_at = (
        SELECT min(at) FROM audit_events
        WHERE audit_events.referral_id = referrals.referral_id AND audit_events.to_status = 'closed'
    )
    WHERE status = 'closed' AND closed_at IS NULL"""
_IS_CLOSING = "NEW.to_status = 'closed' AND (NEW.from_status IS NULL OR NEW.from_status <> 'closed')"

SPAN_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_events_spans",
        f"""CREATE TRIGGER audit_events_spans AFTER INSERT ON audit_events WHEN {_IS_MOVE}
        BEGIN {_PREVIOUS_MOVE.format(seconds="(julianday(NEW.at) - julianday(previous.at)) * 86400")}; END""",
        "DROP TRIGGER IF EXISTS audit_events_closed",
        f"CREATE TRIGGER audit_events_closed AFTER INSERT ON audit_events WHEN {_IS_CLOSING} BEGIN {CLOSED_AT}; END",
    ],
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION peer_review_status_span() RETURNS trigger AS $$
        BEGIN
            IF {_IS_MOVE} THEN {_PREVIOUS_MOVE.format(seconds="EXTRACT(EPOCH FROM NEW.at - previous.at)")};
            END IF;
            IF {_IS_CLOSING} THEN {CLOSED_AT};
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS audit_events_spans ON audit_events",
        """CREATE TRIGGER audit_events_spans AFTER INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION peer_review_status_span()""",
    ],
}
