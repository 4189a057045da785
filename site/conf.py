"""Sphinx configuration of the course website (built by site/build.py from a staged copy of this folder).

Everything the build needs ships in the [site] extra's wheels: Sphinx, MyST-NB and the book theme bring
their styles, scripts and fonts, so nothing is downloaded while building.
"""

import re

import labkit

project = "AI Infrastructure Lab"
author = "AI Infrastructure Lab contributors"
copyright = "AI Infrastructure Lab contributors; text and notebooks CC BY 4.0, code MIT"
release = version = labkit.__version__
language = "en"

extensions = ["myst_nb", "sphinx.ext.autodoc"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "conf.py", "build.py"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# the notebooks arrive executed (build.py runs them, turns each figure into an image with alt text)
nb_execution_mode = "off"
nb_merge_streams = True
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"

html_theme = "sphinx_book_theme"
html_title = "AI Infrastructure Lab"
html_static_path = ["_static"]
templates_path = ["_templates"]
html_css_files = ["labkit-site.css"]
html_theme_options = {
    "repository_url": labkit.REPO_URL,
    "repository_branch": labkit.REPO_BRANCH,
    "use_repository_button": True,
    "use_download_button": False,     # the pages' sources are not copied (html_copy_source = False)
    "show_toc_level": 2,
    "pygments_light_style": "a11y-high-contrast-light",
    "pygments_dark_style": "a11y-high-contrast-dark",
}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False


# labkit's docstrings are written to be read as plain text: a lone ``*`` or a word ending in ``_`` (``**kwargs``, "2 * x") would
# start reST emphasis that never ends, and the page would link to an error message that is not there
_CODE = re.compile(r"(``.*?``|`[^`]*`)")
_TARGET = re.compile(r"(\w)_(?=\W|$)")     # "NN_" would be a reference to a target NN


def _plain_asterisks(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        parts = _CODE.split(line)
        lines[i] = "".join(p if k % 2 else _TARGET.sub(r"\1\\_", p.replace("*", r"\*")) for k, p in enumerate(parts))


def setup(app):
    app.connect("autodoc-process-docstring", _plain_asterisks)
