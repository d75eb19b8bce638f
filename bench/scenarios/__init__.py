"""The scenarios. Each is `async def run(ctx: Context) -> ScenarioResult`, bounded in time."""

from __future__ import annotations

from dataclasses import dataclass

from bench.fleet import Fleet
from bench.profiles import Profile
from bench.report import Reporter
from bench.service import Service


@dataclass
class Context:
    service: Service
    fleet: Fleet
    profile: Profile
    reporter: Reporter
    repeats: int
