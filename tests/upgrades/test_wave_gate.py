"""A wave of 30 registries in batches of 5 on the emulator, gated on a real Prometheus loaded by promtool backfill.

The third batch's registries answer with 5xx far more often from the moment their batch starts: the wave halts after
that batch, naming those registries and the figures, and the batches after it never start. The wave's clock is moved
by the test (``advance_wave(now=…)``) over an hour of history generated up to now.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.localprom import LocalPrometheus, binary
from monitoring.prometheus import PrometheusSource
from provisioning.choices import Phase, Via
from provisioning.models import AuditEvent, BatchStatus, UpgradeStatus, Wave, WaveStatus
from provisioning.reconcile import reconcile
from provisioning.upgrades import waves
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

FROM, TO = "2.14.4", "2.15.2"
WINDOW = 600
STEP = 15
BUCKETS = (0.1, 0.25, 0.5, 1.0)


def write_history(path: Path, namespaces: list[str], bad: set[str], start: int, rise: int, end: int) -> None:
    """Counters every 15 s: 100 requests/s per registry, 1 % 5xx; 25 % for ``bad`` ones from ``rise`` on; a
    registry latency histogram that never changes."""
    lines: list[str] = []
    for namespace in namespaces:
        ok = errors = 0.0
        for t in range(start, end + 1, STEP):
            share = 0.25 if namespace in bad and t >= rise else 0.01
            errors += 100 * STEP * share
            ok += 100 * STEP * (1 - share)
            labels = f'namespace="{namespace}",operation="v2_manifest",method="GET"'
            lines.append(f'harbor_core_http_request_total{{{labels},code="200"}} {ok:.0f} {t}\n')
            lines.append(f'harbor_core_http_request_total{{{labels},code="500"}} {errors:.0f} {t}\n')
            count = 50.0 * STEP * ((t - start) // STEP + 1)
            for le, share_below in zip(BUCKETS, (0.5, 0.9, 0.97, 0.995), strict=True):
                lines.append(
                    f'registry_http_request_duration_seconds_bucket{{namespace="{namespace}",handler="manifest",'
                    f'le="{le}"}} {count * share_below:.0f} {t}\n'
                )
            lines.append(
                f'registry_http_request_duration_seconds_bucket{{namespace="{namespace}",handler="manifest",'
                f'le="+Inf"}} {count:.0f} {t}\n'
            )
    # OpenMetrics wants a series' samples together and in time order.
    lines.sort(key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))
    path.write_text("".join(lines) + "# EOF\n")


@pytest.fixture
def ready_fleet(make_emulated_cluster) -> list:
    cluster = make_emulated_cluster(backup_marker="PITR on the shared PostgreSQL")
    plan = factories.plan()
    fleet = []
    for _ in range(30):
        registry = factories.registry(cluster=cluster, plan=plan, harbor_version=FROM, trivy_enabled=False)
        assert reconcile(registry.pk).phase == Phase.READY
        fleet.append(registry)
    return fleet


@pytest.fixture
def clock_start() -> datetime:
    now = datetime.now(UTC).replace(microsecond=0)
    return now - timedelta(seconds=4200)


@pytest.fixture
def prometheus(ready_fleet, clock_start, tmp_path) -> Iterator[str]:
    namespaces = [registry.namespace for registry in ready_fleet]
    third = {registry.namespace for registry in ready_fleet[10:15]}
    start = int(clock_start.timestamp()) - 2 * WINDOW
    rise = int(clock_start.timestamp()) + 2 * WINDOW + 60  # just after the third batch starts
    source = tmp_path / "history.om"
    write_history(source, namespaces, third, start, rise, int(datetime.now(UTC).timestamp()))
    tsdb = tmp_path / "tsdb"
    subprocess.run(
        [binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(tsdb)],
        check=True,
        capture_output=True,
    )
    server = LocalPrometheus(tsdb, tmp_path)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def run_wave(wave: Wave, start: datetime, url: str) -> Wave:
    now = start
    for _ in range(200):
        current = waves.advance_wave(wave.pk, now=now, source=lambda: PrometheusSource(url, cache_seconds=0))
        assert current is not None
        if current.status != WaveStatus.RUNNING:
            return current
        if current.next_step_at and current.next_step_at > now:
            now = current.next_step_at
    raise AssertionError("the wave did not stop")


def test_a_batch_whose_5xx_ratio_rises_halts_the_wave_after_it(
    ready_fleet, prometheus, clock_start, admin_user
):
    wave = waves.plan_wave(
        Wave(
            name="to 2.15",
            target_version=TO,
            from_version=FROM,
            batch_size=5,
            pause_seconds=0,
            window_seconds=WINDOW,
        ),
        actor=admin_user,
        via=Via.API,
    )
    assert list(wave.batches.values_list("index", flat=True)) == [0, 1, 2, 3, 4, 5]
    waves.start_wave(wave, actor=admin_user, via=Via.API, drive=False)
    Wave.objects.filter(pk=wave.pk).update(next_step_at=clock_start)

    halted = run_wave(wave, clock_start, prometheus)

    assert halted.status == WaveStatus.HALTED
    statuses = list(halted.batches.order_by("index").values_list("status", flat=True))
    assert statuses == [BatchStatus.PASSED] * 2 + [BatchStatus.FAILED] + [BatchStatus.PENDING] * 3
    third = halted.batches.get(index=2)
    for registry in ready_fleet[10:15]:
        assert str(registry) in third.reason
        assert third.figures[registry.namespace]["after"]["error_ratio"] > 0.2
    assert "5xx ratio rose from 1.0 %" in third.reason
    assert all(str(registry) not in third.reason for registry in ready_fleet[:10])
    assert halted.reason.startswith("Batch 3 failed: the gate failed for 5 of 5 registries")
    # Only the first three batches were upgraded; the rest were never touched.
    upgraded = {u.registry_id for u in halted.upgrades.filter(status=UpgradeStatus.SUCCEEDED)}
    assert upgraded == {registry.pk for registry in ready_fleet[:15]}
    for registry in ready_fleet[15:]:
        registry.refresh_from_db()
        assert registry.harbor_version == FROM
    assert AuditEvent.objects.filter(action="wave-halted", target_id=str(wave.pk)).exists()

    # Resume accepts the failed batch; the fourth starts.
    waves.resume_wave(halted, actor=admin_user, via=Via.API, drive=False)
    assert halted.batches.get(index=2).status == BatchStatus.ACCEPTED
    # Abort: nothing further starts and the pending batches are skipped.
    aborted = waves.abort_wave(halted, actor=admin_user, via=Via.API)
    assert aborted.status == WaveStatus.ABORTED
    assert set(aborted.batches.filter(index__gte=3).values_list("status", flat=True)) == {BatchStatus.SKIPPED}
