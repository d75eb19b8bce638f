"""The bench's quick profile as a smoke test: every scenario runs against a real service and
writes a complete record with nothing lost. No timing is asserted (timing lives in the bench)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCENARIOS = {
    "ceilings",
    "conversation",
    "idle",
    "storm",
    "projector",
    "routing",
    "webhooks",
    "reports",
}


def test_quick_profile_writes_a_complete_record(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--profile", "quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    (path,) = tmp_path.glob("*.json")
    run = json.loads(path.read_text())

    assert run["schema"] == 1 and run["profile"] == "quick"
    assert set(run["scenarios"]) == SCENARIOS
    for name, scenario in run["scenarios"].items():
        assert scenario["steps"], name
        assert scenario["headline"], name
        for step in scenario["steps"]:
            assert len(step["repeats"]) >= 3, (name, step["label"])
            assert step["summary"], (name, step["label"])
            for metric in step["summary"].values():
                assert metric["min"] <= metric["median"] <= metric["max"]

    conversation = run["scenarios"]["conversation"]
    assert conversation["headline"]["lost"] == 0
    assert conversation["headline"]["duplicates"] == 0
    for step in conversation["steps"]:
        for repeat in step["repeats"]:
            assert repeat["acked_msgs_per_s"] > 0
            assert repeat["ack_ms"]["count"] > 0 and repeat["e2e_va_ms"]["count"] > 0
            assert repeat["errors_total"] == 0, repeat["errors"]

    storm = run["scenarios"]["storm"]["headline"]
    for variant in ("drop", "restart"):
        assert storm[variant]["gaps"] == 0 and storm[variant]["doubles"] == 0, storm

    routing = run["scenarios"]["routing"]
    assert routing["headline"]["lost"] == 0 and routing["headline"]["assigned_twice"] == 0
    for repeat in routing["steps"][0]["repeats"]:
        assert repeat["assigned"] + repeat["queued"] == repeat["conversations"]
        assert repeat["assign_ms"]["count"] > 0 and repeat["without_agent_name"] == 0

    assert run["scenarios"]["idle"]["headline"]["failed"] == 0
    webhooks = run["scenarios"]["webhooks"]["headline"]
    assert webhooks["lost"] == 0 and webhooks["delivered_per_s"] > 0
    assert run["scenarios"]["projector"]["headline"]["catch_up_rows_per_s"] > 0
    assert run["scenarios"]["ceilings"]["headline"]["echo_msgs_per_s"] > 0
    reports = run["scenarios"]["reports"]["headline"]
    assert reports["conversations"] == 2000 and reports["wrong_totals"] == []
    assert {t["name"] for t in run["targets"]} >= {"conversation", "idle", "storm", "projector"}
    plots = list((tmp_path / run["run_id"]).glob("*.png"))
    assert plots and sorted(p.name for p in plots) == sorted(run["plots"])
