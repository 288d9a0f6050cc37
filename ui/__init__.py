"""chatrec's web page (Gradio) over ``Agent``: ``chatrec serve``.

Modules: ``app`` (layout and wiring), ``service`` (the page's use cases over the agent),
``views`` (escaped HTML and chat messages), ``why`` ("Why this?" pictures from a
recommendation's evidence), ``api`` (public JSON endpoints, docs/api.md), ``loader`` (the agent
loads in the background), ``ratelimit``, ``sessions``, ``bench`` (``chatrec bench serve``).
Importing ``ui`` alone imports nothing heavy; ``ui.app`` imports Gradio.
"""
