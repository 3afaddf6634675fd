"""Read-only queries of the records database for auditors: a whole review, and the recommendations register."""

from __future__ import annotations

from sqlalchemy import select

from activities.records import RecordsStore, as_utc, recommendations, referrals
from peer_review.export import RegisteredRecommendation, ReviewRecord
from peer_review.models import Findings, Recommendation, Referral


async def review_record(store: RecordsStore, referral_id: str) -> ReviewRecord | None:
    audit = await store.audit_record(referral_id)
    async with store.engine.connect() as connection:
        row = (await connection.execute(select(referrals).where(referrals.c.referral_id == referral_id))).first()
    if row is None or audit is None:
        return None
    return ReviewRecord(
        referral=Referral.model_validate_json(row.referral_json),
        status=row.status,
        outcome=row.outcome,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        findings=Findings.model_validate_json(row.findings_json) if row.findings_json else None,
        audit=audit,
        recommendations=await recommendation_register(store, referral_id=referral_id),
    )


async def recommendation_register(
    store: RecordsStore, *, level: str | None = None, status: str | None = None, referral_id: str | None = None
) -> list[RegisteredRecommendation]:
    query = select(recommendations).order_by(recommendations.c.recorded_at, recommendations.c.position)
    if level:
        query = query.where(recommendations.c.level == level)
    if status:
        query = query.where(recommendations.c.status == status)
    if referral_id:
        query = query.where(recommendations.c.referral_id == referral_id)
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        RegisteredRecommendation(
            referral_id=row.referral_id,
            recommendation=Recommendation(level=row.level, text=row.text, owner=row.owner),
            status=row.status,
            recorded_at=as_utc(row.recorded_at),
        )
        for row in rows
    ]
