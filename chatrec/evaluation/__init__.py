"""Evaluation harnesses: simulated users, ReDial replay, offline top-k and explanation metrics.

Each harness is one module with a ``run_*`` entry point (``simulate.run_sim``,
``redial_eval.run_redial``, ``offline.run_offline``, ``explain_eval.run_explain``) that writes
``results.json`` and ``report.md`` with plots into an output directory, resumes from per-unit
checkpoints, and is exposed as ``chatrec eval sim|redial|offline|explain``.
"""
