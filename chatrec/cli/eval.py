"""``chatrec eval sim|redial|offline|explain|linker|rating``: the evaluation harnesses (``chatrec.evaluation``).

Each command writes ``results.json`` and ``report.md`` (with PNG plots) into ``--out``, resumes an
interrupted run from its checkpoints, and prints a summary table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer
from rich.console import Console

from chatrec.cli.options import PASS_THROUGH
from chatrec.config import get_settings
from chatrec.errors import ConfigError

logger = logging.getLogger(__name__)
console = Console()
eval_app = typer.Typer(
    help="Evaluate chatrec: simulated users, ReDial replay, offline top-k, explanations.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


def _out(out: Path | None, name: str) -> Path:
    return out if out is not None else get_settings().home / "eval" / name


def _weights(weights: str | None) -> dict | None:
    """FusionWeights overrides from a JSON object or a JSON file."""
    if not weights:
        return None
    text = Path(weights).read_text(encoding="utf-8") if Path(weights).is_file() else weights
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--weights must be a JSON object or a JSON file ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise ConfigError(
            '--weights must be a JSON object such as \'{"collab": 1.0, "vector": 0.5}\''
        )
    return {str(k): float(v) for k, v in value.items()}


def _data_file(relative: str) -> str:
    from chatrec.catalog.fetch import ensure_data

    return str(ensure_data(get_settings(), needed=[relative], progress=True) / relative)


IARD_DIALOGUES = "redial/iard/umap2020_IARD_Cai.json"


def _done(out: Path) -> None:
    console.print(f"report: [bold]{out / 'report.md'}[/]   results: {out / 'results.json'}")


LIMIT = typer.Option(None, "--limit", help="Evaluate only the first N units (users, dialogues).")
OUT = typer.Option(None, "--out", help="Output directory (default: $CHATREC_HOME/eval/<command>).")
FRESH = typer.Option(False, "--fresh", help="Discard the checkpoints in --out instead of resuming.")
QUIET = typer.Option(False, "--quiet", help="No progress bars.")
WEIGHTS = typer.Option(
    None, "--weights", help="Ablation: FusionWeights overrides (a JSON object or a JSON file) "
    "for the hand-set fusion that chooses the ranker's candidates."
)
NO_INDEX = typer.Option(
    False, "--no-index", help="Run without the vector index (no vector/content sources)."
)
@eval_app.command("sim")
def sim(
    users: int = typer.Option(
        100, "--users", help="Users sampled (all their targets are held out)."
    ),
    turns: int = typer.Option(5, "--turns", help="T: system turns per dialogue."),
    k: int = typer.Option(5, "--k", help="Items shown per turn; a hit is the target among them."),
    seed: int = typer.Option(0, "--seed"),
    split: str | None = typer.Option(
        None, "--split", help="rules/llm: test (report, the default) or tune (choose weights): "
        "disjoint users. seeker-replay: validation (fold 0, the one to tune on), test or all "
        "(the default; both reported apart)."
    ),
    systems: str | None = typer.Option(
        None,
        "--systems",
        help="Comma-separated (default: agent,popularity,vector,collab; seeker-replay: "
        "agent,popularity,vector).",
    ),
    simulator: str = typer.Option(
        "rules",
        "--simulator",
        help="rules (scripted, phrases written after real seekers), llm (an LLM writes the "
        "user's messages, iEvaLM-style; needs CHATREC_LLM, responses cached so reruns are "
        "exact) or seeker-replay (real ReDial seekers' own words, --dialogues).",
    ),
    dialogues: Path | None = typer.Option(
        None,
        "--dialogues",
        help="seeker-replay: ReDial dialogues with questionnaires, raw release or iEvaLM "
        "format (default: the dev dialogues).",
    ),
    train: Path | None = typer.Option(
        None,
        "--train",
        help="seeker-replay: dialogues the popularity baseline counts from (default: the dev "
        "dialogues; 5-fold cross-fitted when they are the scored ones).",
    ),
    phrases: str = typer.Option(
        "both",
        "--phrases",
        help="rules: the phrase bank's half the user speaks with: both (each user with each "
        "half; the held-out half is reported), tuning or held-out.",
    ),
    llm_cache: Path | None = typer.Option(
        None,
        "--llm-cache",
        help="With --simulator llm: where its responses are cached "
        "(default $CHATREC_HOME/llm-cache).",
    ),
    keywords: int = typer.Option(
        2,
        "--keywords",
        help="Keywords the user may reveal (0: genres, decade, person only: harder).",
    ),
    out: Path | None = OUT,
    limit: int | None = LIMIT,
    fresh: bool = FRESH,
    quiet: bool = QUIET,
    weights: str | None = WEIGHTS,
    no_index: bool = NO_INDEX,
) -> None:
    """Simulated users looking for films they want (success@k), agent vs baselines: scripted
    users on MovieLens, an LLM user, or real ReDial seekers replayed."""
    from chatrec.evaluation.report import print_table

    if simulator not in ("rules", "llm", "seeker-replay"):
        raise ConfigError("--simulator must be rules, llm or seeker-replay")
    names = [s.strip() for s in systems.split(",") if s.strip()] if systems else None
    if simulator == "seeker-replay":
        _seeker_replay(dialogues, train, k, seed, names, out, limit, fresh, quiet, no_index,
                       split or "all")
        return
    split = split or "test"
    from chatrec.evaluation.report_sim import SUMMARY_HEADER, summary_rows
    from chatrec.evaluation.simulate import SYSTEMS, SimConfig, run_sim

    if simulator == "llm" and get_settings().llm is None:
        from chatrec.evaluation.llm_user import NOT_CONFIGURED

        raise ConfigError(NOT_CONFIGURED)
    if split not in ("test", "tune"):
        raise ConfigError("--split must be test or tune")
    if phrases not in ("both", "tuning", "held-out"):
        raise ConfigError("--phrases must be both, tuning or held-out")
    names = names or list(SYSTEMS)
    if no_index:
        names = [n for n in names if n != "vector"]
    config = SimConfig(
        users=users,
        turns=turns,
        k=k,
        seed=seed,
        split=split,
        systems=names,
        keywords=keywords,
        weights=_weights(weights),
        simulator=simulator,
        phrases=phrases,  # type: ignore[arg-type]
    )
    out = _out(out, f"sim-seed{seed}" + ("-llm" if simulator == "llm" else ""))
    metrics = run_sim(
        config,
        get_settings(),
        out,
        limit=limit,
        show_progress=not quiet,
        fresh=fresh,
        with_index=not no_index,
        llm_cache=llm_cache,
    )
    print_table(
        f"Simulated users ({metrics['phrases']} phrases): {metrics['n_users']} users, T={turns}, "
        f"k={k}, seed {seed}",
        SUMMARY_HEADER,
        summary_rows(metrics),
        console,
    )
    halves = metrics.get("phrase_halves")
    if halves:
        key = f"success@{k}"
        console.print(
            "agent Hit@k by phrase half: "
            + ", ".join(f"{h} {b.get(key, 0):.3f}" for h, b in halves.items())
            + (f" (gap {metrics['phrase_gap']:+.3f})" if metrics.get("phrase_gap") is not None else "")
        )
    consistency = metrics.get("consistent_items")
    if consistency:
        console.print(
            f"median catalog items consistent with what the user said (end): {consistency['median_final']}"
        )
    llm = metrics.get("llm_simulator")
    if llm:
        timings = json.loads((out / "results.json").read_text(encoding="utf-8"))["timings_s"]
        console.print(
            f"LLM simulator {llm['model']}: {llm['utterances']} messages, "
            f"llm utterances replaced: {llm['replaced']} {llm['by_reason'] or ''}; "
            f"LLM calls this run: {timings.get('llm_calls', 0)} "
            f"(cached answers used: {timings.get('llm_cache_hits', 0)}); "
            f"from an empty cache: {llm['distinct_calls']} calls, "
            f"{llm['prompt_tokens']}+{llm['completion_tokens']} tokens"
        )
    _done(out)


def _seeker_replay(dialogues: Path | None, train: Path | None, k: int, seed: int,
                   names: list[str] | None, out: Path | None, limit: int | None, fresh: bool,
                   quiet: bool, no_index: bool, split: str) -> None:
    from chatrec.evaluation.report import print_table
    from chatrec.evaluation.report_replay import SUMMARY_HEADER, summary_rows
    from chatrec.evaluation.seeker_replay import DEV_DIALOGUES, SYSTEMS, ReplayConfig, run_seeker_replay

    scored = str(dialogues) if dialogues else _data_file(DEV_DIALOGUES)
    names = names or list(SYSTEMS)
    if no_index:
        names = [n for n in names if n != "vector"]
    if split not in ("all", "validation", "test"):
        raise ConfigError("--split for seeker-replay must be all, validation or test")
    config = ReplayConfig(dialogues=scored, train=str(train) if train else None, k=k,
                          systems=names, seed=seed, with_index=not no_index,
                          split=split)  # type: ignore[arg-type]
    out = _out(out, f"sim-seeker-replay-{Path(scored).stem}")
    metrics = run_seeker_replay(config, get_settings(), out, limit=limit,
                                show_progress=not quiet, fresh=fresh)
    print_table(
        f"Seeker replay: {metrics.get('episodes', 0)} ReDial seekers, success@{k}",
        [h.replace("success@k", f"success@{k}") for h in SUMMARY_HEADER],
        summary_rows(metrics),
        console,
    )
    _done(out)


@eval_app.command("redial")
def redial(
    dialogues: Path | None = typer.Option(
        None,
        "--dialogues",
        help="Scored file: raw ReDial/iEvaLM dialogues "
        "or iEvaLM processed turns (default: the dev dialogues).",
    ),
    no_learnt: bool = typer.Option(
        False, "--no-learnt", help="Ablation: without what the build learns (dialogue statistics, "
        "learnt ranker): hand-set fusion with the quality prior."
    ),
    no_ranker: bool = typer.Option(
        False, "--no-ranker", help="Ablation: learnt dialogue statistics, hand-set fusion order."
    ),
    seed: int = typer.Option(0, "--seed", help="The learnt ranker's seed."),
    out: Path | None = OUT,
    limit: int | None = LIMIT,
    fresh: bool = FRESH,
    quiet: bool = QUIET,
    no_index: bool = NO_INDEX,
) -> None:
    """Replay real ReDial dialogues: Recall@1/10/50 of the shipped agent's rank(k=50) on recommender
    turns (learnt parts cross-fitted over 5 fixed folds when the dialogues are training dialogues)."""
    from chatrec.evaluation.redial_eval import DEV_DIALOGUES, RedialConfig, run_redial
    from chatrec.evaluation.report import print_table
    from chatrec.evaluation.report_redial import SUMMARY_HEADER, summary_rows

    scored = str(dialogues) if dialogues else _data_file(DEV_DIALOGUES)
    if not Path(scored).is_file():
        raise ConfigError(f"no such file: {scored}")
    config = RedialConfig(dialogues=scored, learnt=not no_learnt, ranker=not no_ranker,
                          with_index=not no_index, seed=seed)
    out = _out(out, f"redial-{Path(scored).stem}")
    metrics = run_redial(
        config, get_settings(), out, limit=limit, show_progress=not quiet, fresh=fresh
    )
    print_table(
        f"ReDial replay: {metrics['n_turns']} turns, {metrics['n_gold_new']} new gold "
        f"({metrics['input']['training']['mode']})",
        SUMMARY_HEADER,
        summary_rows(metrics, False),
        console,
    )
    for name, split in metrics.get("splits", {}).items():
        console.print(f"{name} (folds {split['folds']}, {split['dialogues']} dialogues): "
                      + ", ".join(f"R@{k} {split[f'recall@{k}']:.3f}" for k in (1, 10, 50)))
    _done(out)


@eval_app.command("requests")
def requests(
    catalog: str = typer.Option("movielens", "--catalog", help="Catalog of the agent under test."),
    split: str = typer.Option(
        "tune,validation", "--split", help="Comma-separated: tune, validation (both by default)."
    ),
    suite: Path | None = typer.Option(None, "--suite", help="Suite file (default: the shipped one)."),
    out: Path | None = OUT,
    limit: int | None = LIMIT,
    fresh: bool = FRESH,
    quiet: bool = QUIET,
) -> None:
    """The request suite: 300+ ordinary requests (negation, comparisons, roles, certainty, one film
    one item, stated ratings, open requests) checked against catalog data."""
    from chatrec.evaluation.report import print_table
    from chatrec.evaluation.requests_eval import SPLITS, RequestsConfig, run_requests

    splits = [s.strip() for s in split.split(",") if s.strip()]
    if not splits or any(s not in SPLITS for s in splits):
        raise ConfigError(f"--split must name {' and/or '.join(SPLITS)}")
    config = RequestsConfig(catalog=catalog, splits=splits)
    if suite is not None:
        config.suite = str(suite)
    if not Path(config.suite).is_file():
        raise ConfigError(f"no such file: {config.suite}")
    out = _out(out, f"requests-{catalog}" if "/" not in catalog else "requests")
    metrics = run_requests(config, get_settings(), out, limit=limit, show_progress=not quiet, fresh=fresh)
    print_table(
        "Request suite",
        ["split", "checks passed", "pass rate", "cases fully passed"],
        [[name, f"{m['checks_passed']}/{m['checks']}", f"{m['pass_rate']:.3f}", f"{m['cases_passed']}/{m['cases']}"]
         for name, m in metrics["splits"].items()],
        console,
    )
    _done(out)


@eval_app.command("replay-checks")
def replay_checks(
    dialogues: list[Path] | None = typer.Option(
        None, "--dialogues", help="ReDial dialogue files (default: the dev dialogues)."
    ),
    iard: bool = typer.Option(
        True, "--iard/--no-iard", help="Also replay the IARD dialogues not in --dialogues."
    ),
    k: int = typer.Option(50, "--k", help="Ranking size asked of rank()."),
    out: Path | None = OUT,
    limit: int | None = LIMIT,
    fresh: bool = FRESH,
    quiet: bool = QUIET,
) -> None:
    """Replay ReDial dialogues through the public API (Agent.from_config(catalog="redial")) and
    count empty and short rankings, films twice, films named earlier in the top 10, and gold
    films excluded by constraints."""
    from chatrec.evaluation.redial_diagnostics import ReplayChecksConfig, run_replay_checks
    from chatrec.evaluation.redial_eval import DEV_DIALOGUES
    from chatrec.evaluation.report import print_table

    files = [str(p) for p in dialogues] if dialogues else [_data_file(DEV_DIALOGUES)]
    for path in files:
        if not Path(path).is_file():
            raise ConfigError(f"no such file: {path}")
    config = ReplayChecksConfig(
        dialogues=files, iard=_data_file(IARD_DIALOGUES) if iard else None, k=k
    )
    out = _out(out, "replay-checks")
    metrics = run_replay_checks(config, get_settings(), out, limit=limit, show_progress=not quiet,
                                fresh=fresh)
    d = metrics["diagnostics"]
    print_table(
        f"ReDial replay checks: {metrics['units']} dialogues, {d['rankings']} rankings",
        ["empty", "short", "film twice", "named in top 10", "gold excluded"],
        [[d["empty"], d["short"], d["with_a_film_twice"], d["with_a_named_film_in_top10"],
          f"{d['new_gold_excluded_by_constraints']}/{d['new_gold']} ({100 * d['new_gold_excluded_share']:.1f}%)"]],
        console,
    )
    _done(out)


@eval_app.command("offline")
def offline(
    seed: int = typer.Option(0, "--seed", help="Random state of the baselines, trial draw and bootstrap."),
    budget: int = typer.Option(16, "--budget", help="Hyper-parameter trials per baseline (validation split)."),
    baselines: str = typer.Option(
        "all", "--baselines", help="Comma-separated library baselines (popularity, "
        "item-knn-implicit, item-knn-explicit, implicit-mf, als, bpr), or all."
    ),
    resamples: int = typer.Option(2000, "--resamples", help="Bootstrap resamples of the users."),
    out: Path | None = OUT,
    limit: int | None = LIMIT,
    fresh: bool = FRESH,
    quiet: bool = QUIET,
    weights: str | None = WEIGHTS,
    no_index: bool = NO_INDEX,
) -> None:
    """MovieLens temporal hold-out: NDCG@10 / HR@10 of the shipped agent vs tuned library
    baselines (LensKit, implicit), on the validation and the test split, with paired intervals."""
    from chatrec.evaluation.baselines import SEARCH_SPACES
    from chatrec.evaluation.offline import OfflineConfig, run_offline
    from chatrec.evaluation.report import print_table
    from chatrec.evaluation.report_offline import SUMMARY_HEADER, ratio_lines, summary_rows

    names = list(SEARCH_SPACES) if baselines == "all" else [
        b.strip() for b in baselines.split(",") if b.strip()]
    unknown = [n for n in names if n not in SEARCH_SPACES]
    if unknown or not names:
        raise ConfigError(f"--baselines: unknown {unknown} (known: {', '.join(SEARCH_SPACES)})")
    if budget < 1 or resamples < 100:
        raise ConfigError("--budget must be ≥ 1 and --resamples ≥ 100")
    config = OfflineConfig(seed=seed, baselines=names, budget=budget, resamples=resamples,
                           weights=_weights(weights), with_index=not no_index)
    out = _out(out, "offline")
    results = run_offline(config, get_settings(), out, limit=limit, show_progress=not quiet,
                          fresh=fresh)
    print_table("Offline top-10 (MovieLens, temporal hold-out)", SUMMARY_HEADER,
                summary_rows(results), console)
    for line in ratio_lines(results):
        console.print(line)
    _done(out)


@eval_app.command("explain")
def explain(
    run: Path | None = typer.Option(
        None, "--run", help="A sim run directory (default: run a sim first)."
    ),
    users: int = typer.Option(
        50, "--users", help="Users of the sim run made when --run is not given."
    ),
    seed: int = typer.Option(0, "--seed"),
    out: Path | None = OUT,
    quiet: bool = QUIET,
    no_index: bool = NO_INDEX,
) -> None:
    """PEPLER explanation metrics (USR, FCR, FD) and the KG-edge share of explanation claims."""
    from chatrec.evaluation.explain_eval import run_explain
    from chatrec.evaluation.report import print_table
    from chatrec.evaluation.report_explain import SUMMARY_HEADER, summary_rows

    out = _out(out, "explain")
    if run is None:
        from chatrec.evaluation.simulate import SimConfig, run_sim

        run = out / "sim"
        run_sim(
            SimConfig(users=users, seed=seed, systems=["agent"]),
            get_settings(),
            run,
            show_progress=not quiet,
            with_index=not no_index,
        )
    result = run_explain(run, get_settings(), out)
    print_table("Explanations (PEPLER metrics)", SUMMARY_HEADER, summary_rows(result), console)
    _done(out)


@eval_app.command("linker", **PASS_THROUGH)
def linker(ctx: typer.Context) -> None:
    """Entity-linker precision/recall on ReDial dialogues (options: ``chatrec eval linker --help``)."""
    from chatrec.evaluation.linker import main as evaluate_linker

    evaluate_linker(list(ctx.args))


@eval_app.command("rating", **PASS_THROUGH)
def rating(ctx: typer.Context) -> None:
    """Rating prediction RMSE/MAE against baselines on a per-user hold-out."""
    from chatrec.evaluation.rating import main as evaluate_rating

    evaluate_rating(list(ctx.args))
