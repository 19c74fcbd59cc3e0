"""Scale to zero and wake, zero-downtime redeploys, and reconciliation, on real sandboxes."""

import asyncio
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from apps.activity.models import Activity
from apps.deployments.models import Deployment
from apps.deployments.proxy import routes
from apps.deployments.services import deployments as services
from apps.deployments.services.maintenance import deployments_reconcile, deployments_scale_idle
from apps.deployments.tests import support
from apps.deployments.tests.support import asgi_http, make_build, run
from apps.runtime.backends import sandbox
from config.asgi import application

runtime_root, backend, plain_venv = support.runtime_root, support.backend, support.plain_venv
pytestmark = [
    pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed"),
    pytest.mark.django_db(transaction=True),
]


def deployed(user, build, **options) -> Deployment:
    """A deployment created and executed through the services, as H4's pipeline does."""
    deployment = services.deployment_create(
        owner=user, notebook=build.notebook, build=build, cpu="0.5", memory="256Mi", **options
    )
    deployment = services.deployment_execute(deployment=deployment)
    assert deployment.status == Deployment.Status.DEPLOYED, deployment.error_message
    return deployment


def test_idle_app_scales_to_zero_and_a_request_wakes_it_once(user, backend, plain_venv, runtime_root, settings):
    settings.DEPLOYMENT_IDLE_SECONDS = 60
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deployed(user, build, min_instances=0)
    workload = f"dep-{deployment.pk}"
    prefix = f"/apps/{deployment.service_name}"
    first = run(lambda: asgi_http(application, "GET", f"{prefix}/"))
    assert first.status == 200

    # Requests are remembered in the cache, not written per request; the idle task flushes them.
    assert Deployment.objects.get(pk=deployment.pk).last_request_at == deployment.last_request_at
    assert deployments_scale_idle().scaled_to_zero == []
    assert Deployment.objects.get(pk=deployment.pk).last_request_at > deployment.last_request_at

    report = deployments_scale_idle(now=timezone.now() + timedelta(seconds=61))
    assert report.scaled_to_zero == [deployment.pk]
    asleep = Deployment.objects.get(pk=deployment.pk)
    assert (asleep.status, asleep.instances) == ("deployed", 0)
    assert workload not in backend.list_workloads()

    async def burst():
        return await asyncio.gather(*(asgi_http(application, "GET", f"{prefix}/") for _ in range(5)))

    answers = run(burst)
    assert [answer.status for answer in answers] == [200] * 5
    # One wake served all five concurrent requests: one new instance, one activity entry.
    assert len({answer.body for answer in answers}) == 1
    assert answers[0].body != first.body
    assert Activity.objects.filter(action="deployment_woken").count() == 1
    awake = Deployment.objects.get(pk=deployment.pk)
    assert (awake.status, awake.instances) == ("deployed", 1)
    assert workload in backend.list_workloads()


def test_min_instances_keeps_the_app_up(user, backend, plain_venv, runtime_root, settings):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deployed(user, build, min_instances=1)
    report = deployments_scale_idle(now=timezone.now() + timedelta(days=1))
    assert report.scaled_to_zero == []
    assert Deployment.objects.get(pk=deployment.pk).instances == 1


def test_redeploy_switches_traffic_without_downtime(user, backend, plain_venv, runtime_root, settings):
    settings.DEPLOY_DRAIN_SECONDS = 1.0
    settings.DEPLOY_ROUTE_CACHE_SECONDS = 0.3
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    first = deployed(user, build)
    prefix = f"/apps/{first.service_name}"

    def redeploy() -> Deployment:
        # The pipeline's way: a new revision, executed while the old one serves.
        revision = services.deployment_create(owner=user, notebook=build.notebook, build=build)
        return services.deployment_execute(deployment=revision)

    async def scenario():
        statuses, bodies = [], []
        job = asyncio.ensure_future(sync_to_async(redeploy, thread_sensitive=False)())
        while not job.done():
            answer = await asgi_http(application, "GET", f"{prefix}/")
            statuses.append(answer.status)
            bodies.append(answer.body)
            await asyncio.sleep(0.01)
        # Keep asking until after the old revision has been retired.
        for _ in range(20):
            answer = await asgi_http(application, "GET", f"{prefix}/")
            statuses.append(answer.status)
            bodies.append(answer.body)
        return await job, statuses, bodies

    second, statuses, bodies = run(scenario)
    assert second.status == "deployed" and second.revision == 2
    assert second.service_name == first.service_name and second.service_url == first.service_url
    assert len(statuses) > 10
    assert set(statuses) == {200}, statuses
    instances = list(dict.fromkeys(bodies))
    assert len(instances) == 2, instances  # the old instance, then the new one, never back
    assert bodies[-1] == instances[1]
    old = Deployment.objects.get(pk=first.pk)
    assert old.status == "stopped" and old.instances == 0
    assert f"dep-{first.pk}" not in backend.list_workloads()
    assert f"dep-{second.pk}" in backend.list_workloads()


def test_failed_redeploy_leaves_the_old_revision_serving(user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    first = deployed(user, build)
    broken = make_build(user, app="crash_app.py", env_path=plain_venv, root=runtime_root, notebook=build.notebook)
    revision = services.deployment_create(owner=user, notebook=build.notebook, build=broken)
    revision = services.deployment_execute(deployment=revision)
    assert revision.status == "failed" and "imaginary_dependency" in revision.error_message
    assert Deployment.objects.get(pk=first.pk).status == "deployed"
    assert build.notebook.__class__.objects.get(pk=build.notebook_id).status == "deployed"
    answer = run(lambda: asgi_http(application, "GET", f"/apps/{first.service_name}/"))
    assert answer.status == 200


def test_reconcile_restarts_a_vanished_app_and_stops_orphans(user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deployed(user, build)
    workload = f"dep-{deployment.pk}"
    before = run(lambda: asgi_http(application, "GET", f"/apps/{deployment.service_name}/"))
    backend.stop(workload)  # as if the host had restarted

    report = deployments_reconcile()
    assert report.restarted == [deployment.pk]
    assert workload in backend.list_workloads()
    assert Activity.objects.filter(action="deployment_restarted").exists()
    routes._local.clear()
    after = run(lambda: asgi_http(application, "GET", f"/apps/{deployment.service_name}/"))
    assert after.status == 200 and after.body != before.body

    # A deployment workload nobody wants any more is stopped.
    Deployment.objects.filter(pk=deployment.pk).update(status="stopped", stopped_at=timezone.now() - timedelta(hours=1))
    assert deployments_reconcile().orphans_stopped == [workload]
    assert workload not in backend.list_workloads()


def test_reconcile_fails_an_app_that_no_longer_starts(user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deployed(user, build)
    backend.stop(f"dep-{deployment.pk}")
    (next((runtime_root / "builds").iterdir()) / "main.py").write_text("raise SystemExit('disk on fire')\n")
    report = deployments_reconcile()
    assert report.failed == [deployment.pk]
    failed = Deployment.objects.get(pk=deployment.pk)
    assert failed.status == "failed" and "disk on fire" in failed.error_message


def test_stuck_deploying_is_failed(user, backend, plain_venv, runtime_root, settings):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = services.deployment_create(owner=user, notebook=build.notebook, build=build)
    Deployment.objects.filter(pk=deployment.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert deployments_reconcile().stuck_failed == [deployment.pk]
    assert Deployment.objects.get(pk=deployment.pk).status == "failed"
    time.sleep(0)  # nothing was started: no workload to wait for
    assert backend.list_workloads() == []
