"""Take the README's picture of a `kg viz` page in headless Chromium.

    .venv/bin/python docs/screenshot.py build/graph.html docs/graph.png [--find NAME]

Opens the page (every non-file request blocked), finds NAME with the page's search
box as a reader would, and saves a PNG of the window.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--find", default="Hypomagnesemia",
                        help="what to type into the search box [default: %(default)s]")
    parser.add_argument("--size", default="1600x960", help="window, WIDTHxHEIGHT")
    parser.add_argument("--scale", type=float, default=0.35,
                        help="zoom of the view [default: %(default)s]")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("viz_draw", REPO / "benchmarks" / "viz_draw.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    from playwright.sync_api import sync_playwright

    width, height = (int(v) for v in args.size.split("x"))
    with sync_playwright() as pw:
        browser = bench.launch(pw)
        page = browser.new_page(viewport={"width": width, "height": height},
                                device_scale_factor=1, reduced_motion="reduce")
        attempted = bench.block_network(page)
        bench.open_page(page, args.page)
        page.fill("#search", args.find)
        page.press("#search", "Enter")
        # frame the found entity with its best-connected neighbour
        page.evaluate("""(scale) => {
            const id = network.getSelectedNodes()[0], p = network.getPosition(id);
            const hub = network.getConnectedNodes(id).sort((a, b) =>
                network.getConnectedEdges(b).length - network.getConnectedEdges(a).length)[0];
            const q = hub ? network.getPosition(hub) : p;
            network.moveTo({ scale, animation: false,
                             position: { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 } });
        }""", args.scale)
        page.locator("#search").blur()
        page.mouse.move(width - 5, height - 5)
        page.wait_for_timeout(400)  # the labels are sized for the new view
        args.png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.png))
        browser.close()
    if attempted:
        raise SystemExit(f"the page tried to fetch {attempted}")
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
