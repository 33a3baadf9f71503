"""Package data: the Jinja2 templates, stylesheet and script of the annotated HTML view.

A package (not a bare folder) so that the ``*.j2``/``*.css``/``*.js`` package-data globs
ship these files in wheels and non-editable installs; ``core.views.html`` loads them.
"""
