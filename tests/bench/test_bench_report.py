"""The benchmark's own checks: its metrics, its load generator, its inputs, its report, and a smoke run of
`python -m bench --smoke` over the real plumbing (tests/bench/conftest.py: the shared test stack)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from bench import engine, paths, report
from bench.load import (
    LoadGenerator,
    Sample,
    decisions,
    find_knee,
    load_scripts,
    over_limit,
    require_loopback,
    sustained,
    user_ladder,
    window_stats,
)
from bench.metrics import Scored, Span, by_flag, entity_report, intent_report, percentile, rejection_rates
from bench.run import SMOKE_SAMPLE, main
from bench.serving import Setup, endpoints_yaml, per_message
from bench.smoke import run_smoke
from bench.training import count_stories, fingerprint, train_or_reuse
from bench.understanding import heldout_sets, load_heldout, run_understanding, simulated_predictor

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---- metrics -------------------------------------------------------------------------------------------------------


def test_intent_report_averages_gold_intents_and_fallback_is_an_error():
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("out_of_scope", "out_of_scope"), ("out_of_scope", "nlu_fallback")]
    result = intent_report(pairs)
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["per_intent"]["a"]["recall"] == pytest.approx(0.5)
    assert result["per_intent"]["b"]["precision"] == pytest.approx(0.5)
    assert result["per_intent"]["out_of_scope"]["recall"] == pytest.approx(0.5)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 2 / 3) / 3)


def test_macro_f1_ignores_labels_only_predicted():
    result = intent_report([("a", "a"), ("a", "greet")])
    assert set(result["per_intent"]) == {"a"}
    assert result["macro_f1"] == pytest.approx(2 / 3)


def test_rejection_rates():
    pairs = [("out_of_scope", "nlu_fallback"), ("out_of_scope", "greet"), ("a", "a"), ("a", "out_of_scope")]
    rates = rejection_rates(pairs)
    assert rates["out_of_scope_rejection_rate"] == pytest.approx(0.5)
    assert rates["false_fallback_rate"] == pytest.approx(0.5)


def _row(gold, predicted, flags=""):
    return Scored("t", "a", "a", tuple(gold), tuple(predicted), flags)


def test_entity_report_needs_exact_span_and_counts_a_duplicate_once():
    gold = [Span("order_number", 0, 9, "AK1234567"), Span("email", 10, 20, "a@b.de")]
    predicted = [
        Span("order_number", 0, 9, "AK1234567"),
        Span("order_number", 0, 9, "AK1234567"),  # a second extractor on the same span: counted once
        Span("email", 10, 18, "a@b.de"),  # partial span: wrong
        Span("serial_number", 0, 16, "A2633C1F23100457"),  # not in gold: false positive
    ]
    result = entity_report([_row(gold, predicted)])
    assert result["per_type"]["order_number"]["precision"] == pytest.approx(1.0)
    assert result["per_type"]["email"]["recall"] == pytest.approx(0.0)
    assert result["per_type"]["serial_number"]["precision"] == pytest.approx(0.0)
    assert result["per_type"]["serial_number"]["recall"] is None
    assert result["micro"]["precision"] == pytest.approx(1 / 3)
    assert result["micro"]["recall"] == pytest.approx(1 / 2)


def test_entity_report_misses_wrong_type():
    result = entity_report([_row([Span("email", 0, 5, "x@y.z")], [Span("order_number", 0, 5, "x@y.z")])])
    assert result["per_type"]["email"]["recall"] == pytest.approx(0.0)


def test_by_flag_groups_each_flag_of_a_message():
    rows = [Scored("t", "a", "a", flags="BQ"), Scored("t", "a", "b", flags="BZ")]
    result = by_flag(rows, {"B": "basic", "Q": "colloquial", "Z": "noise", "W": "offensive"})
    assert result["B"]["n"] == 2 and result["Q"]["accuracy"] == 1.0 and result["Z"]["accuracy"] == 0.0
    assert "W" not in result


def test_percentile_interpolates():
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert percentile([], 50) is None


# ---- load generator ------------------------------------------------------------------------------------------------


def test_window_stats_counts_messages_answered_in_the_window():
    samples = [
        Sample(0.0, 0.1, True, 0),
        Sample(0.5, 0.9, True, 1),
        Sample(1.0, 1.2, False, 0),
        Sample(1.9, 2.5, True, 1),
    ]
    stats = window_stats(samples, 0.0, 2.0)
    assert stats["messages"] == 3 and stats["errors"] == 1
    assert stats["msg_per_s"] == pytest.approx(1.5)
    assert stats["p50_ms"] == pytest.approx(250.0)


def test_sustained_is_the_fastest_step_under_the_limit():
    steps = [
        {"users": 4, "msg_per_s": 2.0, "p95_ms": 80.0, "error_rate": 0.0},
        {"users": 8, "msg_per_s": 4.0, "p95_ms": 250.0, "error_rate": 0.0},
        {"users": 16, "msg_per_s": 6.0, "p95_ms": 900.0, "error_rate": 0.0},
        {"users": 32, "msg_per_s": 7.0, "p95_ms": 100.0, "error_rate": 0.2},
    ]
    assert sustained(steps, 300.0)["users"] == 8
    assert over_limit(steps[2], 300.0, 0.05) and over_limit(steps[3], 300.0, 0.05)
    assert sustained(steps[2:], 300.0) is None


@pytest.mark.parametrize("url", ["http://10.0.0.5:5005", "http://example.com", "http://192.168.1.2:80"])
def test_load_only_goes_to_loopback(url):
    with pytest.raises(ValueError):
        LoadGenerator(url, [])


def test_loopback_accepted():
    assert require_loopback("http://127.0.0.1:5005") == ("127.0.0.1", 5005)


# ---- inputs --------------------------------------------------------------------------------------------------------


def test_default_config_is_what_rasa_init_writes():
    original = paths.ROOT / ".venv-rasa/lib/python3.10/site-packages/rasa/cli/initial_project/config.yml"
    if not original.is_file():
        pytest.skip(".venv-rasa is not installed")
    assert paths.DEFAULT_CONFIG.read_bytes() == original.read_bytes()


def test_scripted_conversations_use_demo_logins():
    from policy_engine.store.demo_logins import DEMO_LOGINS

    logins = {login.order_number: login.email for login in DEMO_LOGINS}
    scripts = load_scripts(paths.CONVERSATIONS)
    assert len(scripts) >= 4
    for script in scripts:
        text = " ".join(script.messages)
        orders = re.findall(r"\bAK\d{7}\b", text)
        emails = re.findall(r"[\w.+-]+@[\w.-]+\.\w+", text)
        for order in orders:
            assert order in logins, f"{script.name}: {order} is not a demo order"
            assert logins[order] in emails, f"{script.name}: {order} without its purchase email"


def test_bench_endpoints_are_the_projects_with_redis_only_for_a_redis_setup():
    assert endpoints_yaml(Setup("project", Path("m")), None) is None  # endpoints.yml itself, as make run uses it
    with_redis = yaml.safe_load(endpoints_yaml(Setup("p", Path("m"), 4, 2, True), 7) or "")
    assert with_redis["tracker_store"] == {"type": "redis", "url": "127.0.0.1", "port": 7, "db": 0}
    project = yaml.safe_load(paths.ENDPOINTS.read_text())
    assert with_redis["action_endpoint"] == project["action_endpoint"]  # the token header, from the environment
    assert with_redis["lock_store"] == project["lock_store"]  # LOCK_STORE_* point it at the same Redis


def test_scripts_refuse_a_bare_yes(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("conversations:\n  - name: x\n    messages:\n      - yes\n")
    with pytest.raises(ValueError, match="quote"):
        load_scripts(path)


def test_decision_payloads_are_read_from_an_answer():
    answer = [{"text": "hi"}, {"custom": {"decision": {"topic": "return", "case_id": "RET-000001"}}}, "odd"]
    assert decisions(answer) == [{"topic": "return", "case_id": "RET-000001"}]
    assert decisions({"error": "x"}) == []


def test_the_user_ladder_keeps_rising_past_the_listed_steps():
    ladder = user_ladder((2, 4, 8), 20)
    assert ladder[:3] == [2, 4, 8] and ladder[-1] == 20
    assert all(b > a for a, b in zip(ladder, ladder[1:], strict=False))
    assert ladder[3] == 10  # 25 % more


class FakeLoad:
    """Stands in for LoadGenerator in find_knee: each read of ``samples`` answers two messages per user inside the
    window just measured (50 ms), with the latency ``latency_ms(users, reads)`` gives."""

    def __init__(self, latency_ms):
        self.latency_ms, self.users, self.reads = latency_ms, 0, 0

    def set_users(self, count):
        self.users = max(self.users, count)

    @property
    def samples(self):
        self.reads += 1
        now, latency = time.monotonic(), self.latency_ms(self.users, self.reads) / 1000
        count = 2 * self.users
        ends = [now - 0.045 + 0.04 * i / count for i in range(count)]
        return [Sample(end - latency, end, True, 0) for end in ends]


def _knee(latency_ms, cap=30.0, max_users=1000):
    load = FakeLoad(latency_ms)
    return find_knee(load, (2, 4, 6, 8), 0.05, 0.0, 300.0, time.monotonic() + cap, max_users=max_users, log=print)


def test_the_knee_is_where_p95_passes_the_limit_twice_and_past_the_listed_steps():
    result = _knee(lambda users, _: 100.0 if users < 13 else 450.0)
    assert result["stopped"] == "knee"
    assert [s["users"] for s in result["steps"]] == [2, 4, 6, 8, 10, 12, 15, 15]  # 15 measured again, over again
    assert result["steps"][-2]["retried"] and sustained(result["steps"], 300.0)["users"] == 12


def test_one_slow_window_does_not_end_the_search():
    result = _knee(lambda users, reads: 450.0 if reads == 3 else (100.0 if users < 10 else 450.0))
    assert [s["users"] for s in result["steps"]][:5] == [2, 4, 6, 6, 8]
    assert result["stopped"] == "knee" and result["steps"][-1]["users"] == 10


def test_a_cap_before_the_knee_is_reported():
    assert _knee(lambda users, _: 100.0, cap=0.12)["stopped"] == "cap"
    assert _knee(lambda users, _: 100.0, max_users=8)["stopped"] == "max_users"


def test_cpu_per_message_excludes_the_load_generator_from_the_servers():
    step = {"messages": 100, "cpu_seconds": {"rasa": 2.0, "actions": 0.5, "load generator": 1.0}}
    cpu = per_message(step)
    assert cpu["rasa"] == pytest.approx(20.0) and cpu["servers"] == pytest.approx(25.0)


def test_a_test_set_still_to_be_scored_once_is_never_read_by_the_bench_and_a_scored_one_is_a_tuning_set(
    tmp_path, monkeypatch
):
    fresh = paths.ROOT / "nlu_eval" / "fresh_test_15d.yml"
    monkeypatch.setattr(paths, "SCORED_RECORDS", tmp_path)
    assert fresh in paths.SCORE_ONCE_SETS and fresh in paths.never_scored()
    named = {paths.OWN_HELDOUT, paths.OWN_HELDOUT_2, paths.BITEXT_HELDOUT}
    assert fresh not in named and set(heldout_sets(max_per_set=1)) <= {"own", "own-2", "bitext"}
    with pytest.raises(ValueError, match="never scored"):
        load_heldout(fresh)
    scored = paths.ROOT / "nlu_eval" / "fresh_test_15c.yml"
    with pytest.raises(ValueError, match="never scored"):
        load_heldout(scored)
    paths.scored_record(scored).write_text("{}", encoding="utf-8")  # bench.score_once has scored it
    assert scored not in paths.never_scored() and len(load_heldout(scored)) == 90


def _inputs(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nlu.yml").write_text("nlu: []\n")
    for name in ("config.yml", "domain.yml", "rasa.txt"):
        (tmp_path / name).write_text(f"# {name}\n")
    return {
        "config": tmp_path / "config.yml",
        "domain": tmp_path / "domain.yml",
        "data": tmp_path / "data",
        "requirements": tmp_path / "rasa.txt",
    }


def test_fingerprint_changes_with_any_training_input(tmp_path):
    inputs = _inputs(tmp_path)
    before = fingerprint(**inputs)
    assert fingerprint(**inputs) == before
    for path in (inputs["data"] / "nlu.yml", inputs["domain"], inputs["config"], inputs["requirements"]):
        path.write_text(path.read_text() + "# changed\n")
        after = fingerprint(**inputs)
        assert after != before, path
        before = after
    (inputs["data"] / "stories.yml").write_text("stories: []\n")  # a new file counts too
    assert fingerprint(**inputs) != before


def test_default_model_is_reused_only_with_its_fingerprint(tmp_path):
    home = tmp_path / "models" / "default" / "cold"
    home.mkdir(parents=True)
    (home / "default.tar.gz").write_bytes(b"model")
    record = {
        "wall_seconds": 2000.0,
        "cpu_seconds": 3900.0,
        "peak_rss_mb": 2100.0,
        "model_mb": 90.0,
        "fingerprint": fingerprint(paths.DEFAULT_CONFIG),
        "measured_at": "2026-11-26T15:00:00+00:00",
    }
    (home / "training.json").write_text(json.dumps(record))
    reused = train_or_reuse(paths.DEFAULT_CONFIG, paths.DEFAULT_CONFIG, "default", tmp_path, timeout=1.0)
    assert reused["cold"]["wall_seconds"] == 2000.0 and "2026-11-26T15:00:00" in reused["cold"]["reused"]
    # a stale record is not reused: training starts (and fails here within its 1 s timeout, or on a missing rasa)
    (home / "training.json").write_text(json.dumps({**record, "fingerprint": "stale"}))
    with pytest.raises((RuntimeError, OSError)):  # rasa train failed or timed out; rasa missing
        train_or_reuse(paths.DEFAULT_CONFIG, tmp_path / "missing-config.yml", "default", tmp_path, timeout=1.0)


def test_count_stories(tmp_path):
    failed = tmp_path / "failed.yml"
    failed.write_text("# None of the test stories failed - all good!")
    passed = tmp_path / "passed.yml"
    passed.write_text("version: '3.1'\nstories:\n- story: a\n  steps: []\n- story: b\n  steps: []\n")
    assert count_stories(failed) == 0 and count_stories(passed) == 2 and count_stories(tmp_path / "none") == 0


def test_targets_need_the_floor_and_beating_the_default():
    results = {
        "understanding": {
            "configs": {
                "project": {"bitext": {"macro_f1": 0.96}, "own": {"macro_f1": 0.99}},
                "default": {"bitext": {"macro_f1": 0.97}, "own": {"macro_f1": 0.90}},
            }
        },
        "serving": {"project": {"sustained_msg_per_s": 9.0}, "default": {"sustained_msg_per_s": 4.0}},
    }
    targets = report.evaluate_targets(results)

    def met(prefix):
        return next(t["met"] for t in targets if t["target"].startswith(prefix))

    assert met("intent macro-F1 Bitext") is False  # above the floor but below the default
    assert met("intent macro-F1 own") is True
    assert met(">= 2x") is True
    assert met("training") is None  # not measured


# ---- smoke run of the whole script -----------------------------------------------------------------------------


def test_engine_headline_keeps_the_rates():
    figures = {"pure": {"return_decisions_per_s": 10.0, "note": "x"}, "sqlite": {"cases_created_per_s": 2}, "n": 3}
    assert engine.headline(figures) == {"pure.return_decisions_per_s": 10.0, "sqlite.cases_created_per_s": 2.0}


def test_report_writes_json_markdown_and_plots_from_made_up_figures(tmp_path):
    """The report code alone (fast): simulated predictions and made-up load steps, nothing measured."""
    sets = heldout_sets(max_per_set=20)
    steps = [
        {"users": u, "msg_per_s": r, "p50_ms": 50.0, "p95_ms": p, "p99_ms": p * 1.5, "errors": 0, "error_rate": 0.0}
        for u, r, p in ((2, 1.0, 90.0), (4, 2.0, 150.0), (8, 3.5, 420.0))
    ]
    run = {"setup": "made up", "steps": steps, "stopped": "knee", "sustained": steps[1], "sustained_msg_per_s": 2.0}
    results = {
        "meta": {"mode": "test"},
        "understanding": run_understanding(
            {"project": Path("p"), "default": Path("d")}, sets, simulated_predictor({"project": 9, "default": 4})
        ),
        "serving": {"plan": {}, "project": run, "starter": {**run, "sustained_msg_per_s": 1.0}},
    }
    written = report.write(results, tmp_path)
    markdown = written["markdown"].read_text()
    assert "bench_latency.png" in results["plots"]
    for name in results["plots"]:
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
        assert f"({name})" in markdown
    ratio = next(t for t in results["targets"] if "starter" in t["target"])
    assert ratio["value"] == pytest.approx(2.0) and ratio["met"] is True


def test_smoke_run_checks_the_real_plumbing(tmp_path, bench_stack):
    """``python -m bench --smoke`` over the real plumbing, and what it must find:

    * understanding: ``bench/rasa_eval.py`` ran in ``.venv-rasa`` with the trained model of ``models/`` (as the stack
      serves it) and parsed an even sample of each tuning set (own dev, Bitext dev: never a test set, on a check that
      runs on every change): it loaded a model, every message got a prediction, and at least 80 % of the sample is
      right (the model scores about 98 % on these sets; a broken model or pipeline does not);
    * serving: the shared test stack (a real Rasa server with the project's ``credentials.yml`` and the rasa-sdk
      action server on a seeded SQLite database) answered every message of every scripted conversation through the
      authenticated REST channel (Bearer token) without an error; each verifying script got its decision payload
      (refund, credits, return, cancellation: identity verified, service layer reached), and the return was
      confirmed: the answer names a case the support database's decision audit holds;
    * the report: bench.json, bench.md and its PNG plots are written, every target n/a (a sample is not a
      measurement); the run exits 0.

    It does not measure anything: no training, no test stories, no load steps (``make bench`` does those).
    """
    out = tmp_path / "reports"
    started = time.monotonic()
    code = main(["--smoke", "--only", "understanding,serving", "--out", str(out), "--work", str(tmp_path / "work")])
    results = json.loads((out / "bench.json").read_text())
    assert code == 0, json.dumps({k: results.get(k) for k in ("understanding", "serving")}, default=str)[:3000]
    assert results["meta"]["mode"] == "smoke"

    nlu = results["understanding"]
    assert nlu["sets"] == {"dev": SMOKE_SAMPLE, "bitext-dev": SMOKE_SAMPLE}
    project = nlu["configs"]["project"]
    assert project["model_load_seconds"] > 0 and project["parse_ms_per_message"] > 0
    right = sum(project[name]["accuracy"] * project[name]["n"] for name in nlu["sets"])
    assert right >= 0.8 * 2 * SMOKE_SAMPLE, {name: project[name]["errors_sample"] for name in nlu["sets"]}

    smoke = results["serving"]["project"]
    scripts = load_scripts(paths.CONVERSATIONS)
    assert [c for c in smoke["checks"] if not c["ok"]] == []
    checked = {c["check"] for c in smoke["checks"]}
    assert sum(1 for s in scripts if s.decides) >= 4 and any(s.opens_case for s in scripts)
    assert all(any(c.startswith(f"{s.name}: verified") for c in checked) for s in scripts if s.decides)
    step = smoke["steps"][0]
    assert step["errors"] == 0 and step["messages"] >= sum(len(s.messages) for s in scripts)
    assert smoke["conversations_played"] >= len(scripts)

    assert results["targets"] and all(t["met"] is None for t in results["targets"])  # samples, not measurements
    markdown = (out / "bench.md").read_text()
    assert "bench_latency.png" in results["plots"]
    for name in results["plots"]:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
        assert f"({name})" in markdown
    print(f"smoke run: {time.monotonic() - started:.1f} s")


def test_smoke_serving_fails_with_a_wrong_token(bench_stack):
    """The same conversations with a wrong Bearer token: every message refused (401), every check but the
    not-applicable ones failed, and the result carries an error (the smoke run would exit 1)."""
    scripts = load_scripts(paths.CONVERSATIONS)
    result = run_smoke(scripts, bench_stack.settings, log=lambda _: None, token="wrong-" + "x" * 40, timeout=10)
    assert "error" in result
    answered = next(c for c in result["checks"] if c["check"].startswith("every message answered"))
    assert not answered["ok"] and "HTTP 401" in answered["detail"]
    assert not any(c["ok"] for c in result["checks"] if "decision" in c["check"])


def test_smoke_understanding_fails_without_its_model(tmp_path):
    """A broken model path is an error of the understanding section and the run's exit code is 1."""
    out = tmp_path / "reports"
    args = ["--smoke", "--only", "understanding", "--model", str(tmp_path / "missing.tar.gz")]
    assert main([*args, "--out", str(out), "--work", str(tmp_path / "work")]) == 1
    results = json.loads((out / "bench.json").read_text())
    assert "missing.tar.gz" in results["understanding"]["error"]


def test_a_set_to_be_scored_once_is_refused_the_second_time_and_others_always(tmp_path, monkeypatch):
    """``bench.score_once``: only a set of SCORE_ONCE_SETS, and only while it has no record (a looked-at set tunes)."""
    from bench import score_once

    monkeypatch.setattr(score_once, "RECORDS", tmp_path)
    fresh = paths.ROOT / "nlu_eval" / "fresh_test_15.yml"
    (tmp_path / "fresh_test_15.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit, match="scored already"):
        score_once.main(["--model", "unused.tar.gz", str(fresh)])
    with pytest.raises(SystemExit, match="not a set to be scored once"):
        score_once.main(["--model", "unused.tar.gz", str(paths.OWN_DEV)])
