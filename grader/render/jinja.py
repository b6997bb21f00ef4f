"""The jinja2 setup every HTML renderer uses: autoescaped, so nothing a submission wrote can become markup,
and strict about undefined names, so a template typo fails loudly instead of rendering blank."""

from collections.abc import Callable

import jinja2

from grader.render.summary import points


def environment(**filters: Callable) -> jinja2.Environment:
    """A new environment with the shared filters and the renderer's own."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(points=points, seconds=lambda v: f"{v:.3f} s" if v < 10 else f"{v:.1f} s", **filters)
    return env
