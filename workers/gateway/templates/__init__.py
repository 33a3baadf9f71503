"""Package data: the HTTP gateway's page templates (index with the paste form, status pages).

They extend ``core/views/templates/base.html.j2`` so the gateway's pages and the annotated view
share one stylesheet and script.
"""
