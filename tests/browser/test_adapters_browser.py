"""The train page in real headless Chromium: a facilitator starts a run and watches it progress to done.

The app is served over HTTP with CSRF on; a real `flask worker` process trains (tiny test model),
and the run page's htmx fragment shows the step, loss and log changing without a page reload.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.adapters_support import TINY, published_assembly
from tests.conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, ROOT, make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served_with_worker(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    config = {"FINETUNE_DIR": str(tmp_path / "ft"), "HUEY_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
              "HUEY_IMMEDIATE": False, "CONSTITUTION_SIMILARITY": "char-ngram-tfidf", "WTF_CSRF_ENABLED": True}
    app = make_app(url, **config)
    published_assembly(app)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "browser-worker", "CLUSTERING_AUTO": "0",
           "HUEY_IMMEDIATE": "0", "FINETUNE_DIR": config["FINETUNE_DIR"], "HUEY_URL": config["HUEY_URL"]}
    with open(tmp_path / "worker.log", "w") as log:
        worker = subprocess.Popen([str(Path(sys.executable).with_name("flask")), "--app", "app", "worker",
                                   "--poll-max-s", "0.5"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", tmp_path
    server.shutdown()
    worker.kill()
    worker.wait(timeout=10)
    app.extensions["assembly_engine"].dispose()


def test_train_page_shows_progress_until_done(served_with_worker, page):
    base, tmp = served_with_worker
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", FACILITATOR_EMAIL)
    page.fill("input[name=password]", FACILITATOR_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/facilitate/planted/adapters")
    page.click("text=Train an adapter")
    page.fill("input[name=base_model]", TINY)
    page.fill("input[name=steps]", "12")
    page.fill("input[name=name]", "from-browser")
    page.click("text=Start training")
    page.wait_for_url("**/facilitate/planted/runs/*")
    page.evaluate("window.__sameDocument = true")  # survives only if htmx, not a reload, updates the page
    status = page.locator("[data-status]")
    try:
        page.wait_for_function(
            "() => /^[1-9]/.test(document.querySelector('[data-field=step]').textContent)", timeout=240_000)
        seen_running = status.get_attribute("data-status")
        page.wait_for_selector("[data-status=done]", timeout=240_000)
    except Exception:
        print((tmp / "worker.log").read_text()[-3000:])
        raise
    assert seen_running in ("running", "done")
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("[data-field=step]").inner_text() == "12/12"
    assert page.locator("[data-field=loss]").inner_text() != "–"
    assert "registered adapter planted/from-browser" in page.locator("[data-field=log]").inner_text()
    page.click("#run-status a:has-text('planted/from-browser')")
    page.wait_for_url("**/a/planted/adapters/from-browser")
    assert page.locator("svg polyline").count() >= 1
    assert "vote snapshot" in page.locator(".lineage").inner_text()
