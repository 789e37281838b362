"""Take the phone screenshots in docs/screenshots/ with Playwright and Debian's Chromium.

    PYTHONPATH=. .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Serves the app on a temporary SQLite database loaded with `flask demo`'s assembly (vTaiwan
UberX, clustered), then opens each citizen page on a 390x844 phone in zh-TW and saves what
is visible without scrolling (small PNGs, one screen each). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path

from sqlmodel import Session, select
from werkzeug.serving import make_server

PHONE = {"width": 390, "height": 844}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    from app import create_app
    from assembly.demo import DEMO_SLUG, load_demo
    from assembly.migrate import upgrade
    from assembly.models import Assembly
    from assembly.results.runs import run_clustering

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/shots.db", "SECRET_KEY": "screenshots",
                          "RATELIMIT_ENABLED": False, "CLUSTERING_AUTO": False})
        upgrade(app.extensions["assembly_engine"])
        with app.app_context(), Session(app.extensions["assembly_engine"]) as db:
            load_demo(db, tmp)
            demo = db.exec(select(Assembly).where(Assembly.slug == DEMO_SLUG)).one()
            run_clustering(db, demo, device="cpu")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/a/{DEMO_SLUG}"
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            context = browser.new_context(viewport=PHONE, locale="zh-TW", is_mobile=True, has_touch=True,
                                          device_scale_factor=1)
            page = context.new_page()
            page.goto(base)
            page.screenshot(path=args.out / "phone-vote.png")
            for n in range(8):  # enough votes to be placed on the map
                page.locator("#card .vote-buttons button").nth(n % 2).click()
                expect(page.locator("#progress .progress-count")).to_contain_text(f"{n + 1} /")
            with app.app_context(), Session(app.extensions["assembly_engine"]) as db:  # place the new voter
                run_clustering(db, db.exec(select(Assembly).where(Assembly.slug == DEMO_SLUG)).one(), device="cpu")
            page.goto(f"{base}/votes")
            page.screenshot(path=args.out / "phone-my-votes.png")
            page.goto(f"{base}/results")
            page.screenshot(path=args.out / "phone-results.png")
            page.locator("section:has(#map-h)").screenshot(path=args.out / "phone-opinion-map.png")
            page.goto(f"{base}/constitution")
            page.screenshot(path=args.out / "phone-constitution-none-yet.png")
            browser.close()
        server.shutdown()
    for png in sorted(args.out.glob("*.png")):
        print(f"{png} {png.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
