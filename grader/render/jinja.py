"""The jinja2 environment every HTML renderer uses: autoescaped, so nothing a submission wrote can become
markup, and strict about undefined names, so a template typo fails loudly instead of rendering blank."""

import jinja2

from grader.render.summary import points

env = jinja2.Environment(
    loader=jinja2.PackageLoader("grader.render", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["points"] = points
env.filters["seconds"] = lambda v: f"{v:.3f} s" if v < 10 else f"{v:.1f} s"
