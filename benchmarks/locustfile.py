"""The people of the pages-and-API load phase, for locust (run headless by benchmarks/load.py).

Chairs open their inbox, open a review and approve or decline it; reviewers open their list, open a review
and submit findings; auditors search the records and open timelines; an integration refers new reviews and
reads their status back. Everyone signs in with a bearer JWT for a member of staff in the directory.

BENCH_LOAD_PLAN names a JSON file from load.py: the API's secret, how many of each kind of person, and which
reviews each Chair and reviewer may act on (disjoint pools, so two people never decide the same review and
every refusal is a real error). Every request is written to BENCH_LOAD_REQUESTS (JSON lines) when the run
stops, for the latency-over-time figures.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
REQUESTS: list[dict[str, Any]] = []
PAGE = {"Accept": "text/html"}
API = {"Accept": "application/json"}


def _log(request_type: str, name: str, response_time: float, exception: Exception | None, **kwargs: Any) -> None:
    response = kwargs.get("response")
    REQUESTS.append(
        {
            "at": kwargs.get("start_time") or time.time(),
            "method": request_type,
            "name": name,
            "ms": response_time,
            "status": getattr(response, "status_code", 0),
            "error": None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
        }
    )


def _save(**_: Any) -> None:
    with open(os.environ["BENCH_LOAD_REQUESTS"], "w", encoding="utf-8") as out:
        for request in REQUESTS:
            out.write(json.dumps(request) + "\n")


# locust's EventHook.add_listener carries no annotations.
events.request.add_listener(_log)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_save)  # type: ignore[no-untyped-call]


def think() -> None:
    """A person reading the page before the next click (time.sleep is gevent's under locust)."""
    low, high = PLAN["think_seconds"]
    time.sleep(random.uniform(low, high))


def _token(staff_id: str) -> str:
    claims = {"sub": staff_id, "exp": datetime.now(UTC) + timedelta(hours=2)}
    return jwt.encode(claims, PLAN["secret"], algorithm="HS256")


class Person(HttpUser):
    abstract = True
    wait_time = between(PLAN["think_seconds"][0], PLAN["think_seconds"][1])
    kind = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each kind of person runs as many users as the plan gives that kind."""
        super().__init_subclass__(**kwargs)
        cls.fixed_count = PLAN["users"][cls.kind]

    def on_start(self) -> None:
        people: list[str] = PLAN["people"][self.kind]
        self.staff_id = people[random.randrange(len(people))]
        bearer = {"Authorization": f"Bearer {_token(self.staff_id)}"}
        self.page_headers = {**PAGE, **bearer}
        self.api_headers = {**API, **bearer}

    def page(self, path: str, name: str) -> None:
        self.client.get(path, headers=self.page_headers, name=name)

    def take(self, pool: str) -> str | None:
        """The next review from this person's pool (shared by everyone acting as the same member of staff)."""
        reviews: list[str] = PLAN["pools"][pool].get(self.staff_id, [])
        return reviews.pop() if reviews else None

    def open_next(self, pool: str) -> str | None:
        """As a Chair or reviewer works: their list page, then the next review from `pool` and its page, reading
        each before the next click; None (after the list page) when the pool is empty."""
        self.page(f"/{self.kind}", f"GET /{self.kind}")
        referral_id = self.take(pool)
        if referral_id is None:
            return None
        think()
        self.page(f"/{self.kind}/reviews/{referral_id}", f"GET /{self.kind}/reviews/[id]")
        think()
        return referral_id

    def act(self, referral_id: str, action: str, body: dict[str, Any]) -> None:
        self.client.post(
            f"/referrals/{referral_id}/{action}", json=body, headers=self.api_headers, name=f"POST {action}"
        )


class Chair(Person):
    kind = "chair"

    @task
    def decide(self) -> None:
        referral_id = self.open_next("decide")
        if referral_id is None:
            return
        if random.random() < PLAN["decline_share"]:
            self.act(referral_id, "decline", {"rationale": "Declined: a local review is enough for this complaint."})
        else:
            self.act(referral_id, "approve", {"rationale": "Approved: the referral meets the criteria."})


class Reviewer(Person):
    kind = "reviewer"

    @task
    def review(self) -> None:
        referral_id = self.open_next("findings")
        if referral_id is not None:
            self.act(referral_id, "submit-findings", PLAN["findings"])


class Auditor(Person):
    kind = "auditor"

    @task
    def audit(self) -> None:
        criteria = random.choice(PLAN["searches"])
        query = "&".join(f"{key}={value}" for key, value in criteria.items())
        self.page(f"/audit?{query}" if query else "/audit", "GET /audit (search)")
        for _ in range(2):
            think()
            referral_id = random.choice(PLAN["audit_ids"])
            self.page(f"/audit/reviews/{referral_id}", "GET /audit/reviews/[id]")


class Integration(Person):
    kind = "integration"

    @task
    def refer(self) -> None:
        referral_id = f"{PLAN['refer_prefix']}-{uuid.uuid4().hex[:12]}"
        # A new customer's own case, as most referrals are (as benchmarks.drivers.standard_referral names them).
        customer = {**PLAN["referral"]["customer"], "reference": f"C-{referral_id}"}
        case = {"case_reference": f"CMP-{referral_id}", "customer": customer}
        body = {**PLAN["referral"], **case, "referral_id": referral_id, "osn": random.choice(PLAN["osns"])}
        self.client.post("/referrals", json=body, headers=self.api_headers, name="POST /referrals")
        think()
        self.client.get(f"/referrals/{referral_id}", headers=self.api_headers, name="GET /referrals/[id]")
