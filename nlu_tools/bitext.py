#!/usr/bin/env python3
"""Build the Bitext part of the NLU training data and the Bitext held-out set (deterministic).

    python scripts/build_bitext.py [--csv ../shared/data/bitext/customer-service-8k.csv] [--check]

Reads the Bitext CSV and nlu_eval/bitext_intent_map.yml (the documented intent mapping), maps every utterance to an
intent of this assistant, fills Bitext placeholders such as ``{{Order Number}}`` with realistic values (annotated
as entities when they are order_number / email / serial_number), and splits each source intent with the fixed seed
into a training part (data/nlu/bitext_train.yml), a held-out part (nlu_eval/bitext_heldout.yml) and a dev part
for tuning (nlu_eval/bitext_dev.yml).

Guarantees (tests/nlu/test_nlu_data.py checks them on the committed files):
- the same input gives byte-identical output;
- no held-out utterance (normalised: lower case, single spaces, no trailing punctuation) appears in any training
  file, and no Bitext training row repeats an utterance of nlu_eval/own_heldout.yml, own_heldout_2.yml or
  own_dev.yml;
- an utterance that Bitext lists under source intents with different targets is dropped (ambiguous), as is one
  that the assistant's own data labels differently.
`--check` rebuilds in memory and fails if the committed files differ.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from nlu_tools.nlu_yaml import dump_intents, normalize, read_examples

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "bitext" / "customer-service-8k.csv"
MAP_FILE = ROOT / "nlu_eval" / "bitext_intent_map.yml"
TRAIN_FILE = ROOT / "data" / "nlu" / "bitext_train.yml"
HELDOUT_FILE = ROOT / "nlu_eval" / "bitext_heldout.yml"
DEV_FILE = ROOT / "nlu_eval" / "bitext_dev.yml"
OWN_HELDOUT_FILES = (
    ROOT / "nlu_eval" / "own_heldout.yml",
    ROOT / "nlu_eval" / "own_heldout_2.yml",
    ROOT / "nlu_eval" / "own_dev.yml",
)

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
# characters that would be read as Rasa entity-annotation syntax
ANNOTATION_CHARS = re.compile(r"[\[\]{}()]")

EMAIL_USERS = [
    "jo",
    "maria.lopez",
    "tkim88",
    "dave_r",
    "sam+anker",
    "li.wei",
    "a.nowak",
    "pat.o.brien",
    "kmueller",
    "jenny1993",
    "r.singh",
    "tom_h",
    "nguyen.an",
    "ella-mae",
    "j.smith42",
]
EMAIL_DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.co.uk",
    "icloud.com",
    "proton.me",
    "web.de",
    "aol.com",
    "mail.company.io",
    "uni-hamburg.de",
]
NAMES = ["Maria", "John", "Aisha", "Kenji", "Laura", "Diego", "Priya", "Tom"]
PRODUCTS = [
    "Anker 737 Power Bank",
    "PowerCore 10000",
    "Nano charger",
    "USB-C cable",
    "PowerExpand hub",
    "SOLIX F1200",
    "757 Portable Power Station",
]


class BuildError(Exception):
    pass


def order_number(rng: random.Random) -> str:
    return "AK" + "".join(rng.choice("0123456789") for _ in range(7))


def serial_number(rng: random.Random) -> str:
    chars = [rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")]
    chars += [rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(11)]
    chars += [rng.choice("0123456789") for _ in range(4)]  # at least 4 digits
    return "".join(chars)


def email(rng: random.Random) -> str:
    return f"{rng.choice(EMAIL_USERS)}@{rng.choice(EMAIL_DOMAINS)}"


def fill_placeholders(utterance: str, rng: random.Random) -> str | None:
    """Replace ``{{Order Number}}``-style placeholders; entity values come back annotated. None if unknown."""

    def replace(match: re.Match) -> str:
        key = re.sub(r"[^a-z]", "", match.group(1).lower())
        if "order" in key and ("number" in key or key.endswith("id")):
            return f"[{order_number(rng)}](order_number)"
        if "email" in key or "mail" in key:
            return f"[{email(rng)}](email)"
        if "serial" in key:
            return f"[{serial_number(rng)}](serial_number)"
        if "name" in key or "person" in key:
            return rng.choice(NAMES)
        if "product" in key or "item" in key:
            return rng.choice(PRODUCTS)
        raise KeyError(match.group(1))

    try:
        return PLACEHOLDER.sub(replace, utterance)
    except KeyError:
        return None


def load_mapping(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        mapping = yaml.safe_load(handle)
    for name, spec in mapping["intents"].items():
        if "target" not in spec:
            raise BuildError(f"{path}: intent {name!r} has no 'target'")
        for override in spec.get("overrides") or []:
            re.compile(override["pattern"])
    for kind in ("in_scope", "out_of_scope"):
        split = mapping["split"][kind]
        split.setdefault("dev_per_intent", 0)
        if min(split["train_per_intent"], split["heldout_per_intent"], split["dev_per_intent"]) < 0:
            raise BuildError(f"{path}: split sizes must not be negative")
    return mapping


def target_of(spec: dict, utterance: str) -> str | None:
    lowered = utterance.lower()
    for override in spec.get("overrides") or []:
        if re.search(override["pattern"], lowered):
            return override["target"]
    return spec["target"]


def build(csv_path: Path) -> tuple[str, str, str, Counter]:
    mapping = load_mapping(MAP_FILE)
    stats: Counter = Counter()
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unknown = sorted({row["intent"] for row in rows} - set(mapping["intents"]))
    if unknown:
        raise BuildError(f"{MAP_FILE}: no mapping for Bitext intents {unknown}")

    # unique utterances per source intent (first spelling kept), with their target
    by_source: dict[str, dict[str, tuple[str, str | None]]] = defaultdict(dict)
    targets_of_key: dict[str, set] = defaultdict(set)
    for row in rows:
        utterance = re.sub(r"\s+", " ", row["utterance"].strip())
        key = normalize(utterance)
        if not key:
            continue
        target = target_of(mapping["intents"][row["intent"]], utterance)
        targets_of_key[key].add(target)
        by_source[row["intent"]].setdefault(key, (utterance, target))
    ambiguous = {key for key, targets in targets_of_key.items() if len(targets) > 1}
    stats["ambiguous_dropped"] = len(ambiguous)

    own_train: dict[str, str] = {}
    for example in read_examples(p for p in sorted((ROOT / "data" / "nlu").glob("*.yml")) if p != TRAIN_FILE):
        own_train.setdefault(normalize(example.text), example.intent)
    own_heldout = {normalize(e.text) for e in read_examples([p for p in OWN_HELDOUT_FILES if p.exists()])}

    rng = random.Random(mapping["seed"])
    fill_rng = random.Random(mapping["seed"] + 1)
    train: dict[str, list[str]] = defaultdict(list)
    train_keys: set[str] = set()
    heldout_candidates: list[tuple[str, str, str]] = []
    dev_candidates: list[tuple[str, str, str]] = []
    for source in sorted(by_source):
        spec = mapping["intents"][source]
        split = mapping["split"]["out_of_scope" if spec["target"] == "out_of_scope" else "in_scope"]
        keys = sorted(by_source[source])
        rng.shuffle(keys)
        usable = []
        for key in keys:
            utterance, target = by_source[source][key]
            if target is None:
                stats["mapped_to_null"] += 1
            elif key in ambiguous:
                pass
            elif ANNOTATION_CHARS.search(PLACEHOLDER.sub("", utterance)):
                stats["annotation_chars_dropped"] += 1
            else:
                usable.append((key, utterance, target))
        n_train = split["train_per_intent"]
        for key, utterance, target in usable[:n_train]:
            if own_train.get(key, target) != target:
                stats["conflicts_with_own_data"] += 1
                continue
            if key in own_heldout:
                stats["in_own_heldout"] += 1
                continue
            filled = fill_placeholders(utterance, fill_rng)
            if filled is None:
                stats["unknown_placeholder_dropped"] += 1
                continue
            stats["placeholders_filled"] += len(PLACEHOLDER.findall(utterance))
            train[target].append(filled)
            train_keys.add(key)
        n_heldout = split["heldout_per_intent"]
        heldout_candidates.extend(usable[n_train : n_train + n_heldout])
        dev_candidates.extend(usable[n_train + n_heldout : n_train + n_heldout + split["dev_per_intent"]])

    def evaluation_part(candidates: list[tuple[str, str, str]], fill: random.Random, seen: str) -> dict[str, list[str]]:
        """Utterances never trained on, placeholders filled; ``seen`` counts those dropped as seen in training."""
        part: dict[str, list[str]] = defaultdict(list)
        for key, utterance, target in candidates:
            if key in train_keys or key in own_train:
                stats[seen] += 1
                continue
            filled = fill_placeholders(utterance, fill)
            if filled is None:
                stats["unknown_placeholder_dropped"] += 1
                continue
            part[target].append(filled)
        return part

    heldout = evaluation_part(heldout_candidates, fill_rng, "heldout_seen_in_training")
    # the dev part (for tuning thresholds and the pipeline) comes after the held-out part of each shuffled source
    # intent and fills its placeholders from its own generator, so adding it changed neither of the other two files
    dev = evaluation_part(dev_candidates, random.Random(mapping["seed"] + 2), "dev_seen_in_training")

    header = (
        "GENERATED by scripts/build_bitext.py from ../shared/data/bitext/customer-service-8k.csv -- do not edit.\n"
        "Bitext Sample Customer Service Training Dataset, CDLA-Sharing-1.0 (../shared/data/bitext/LICENSE.txt).\n"
        "Intent mapping: nlu_eval/bitext_intent_map.yml."
    )
    train_text = dump_intents({k: sorted(v) for k, v in sorted(train.items())}, header + "\nTraining part.")
    heldout_text = dump_intents(
        {k: sorted(v) for k, v in sorted(heldout.items())}, header + "\nHeld-out part: never used for training."
    )
    dev_text = dump_intents(
        {k: sorted(v) for k, v in sorted(dev.items())},
        header + "\nDev part: never used for training; for tuning, so figures on it are optimistic.",
    )
    stats["train_rows"] = sum(len(v) for v in train.values())
    stats["heldout_rows"] = sum(len(v) for v in heldout.values())
    stats["dev_rows"] = sum(len(v) for v in dev.values())
    return train_text, heldout_text, dev_text, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--check", action="store_true", help="fail if the committed files are not up to date")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"error: Bitext CSV not found: {args.csv}", file=sys.stderr)
        return 2
    try:
        train_text, heldout_text, dev_text, stats = build(args.csv)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        outputs = ((TRAIN_FILE, train_text), (HELDOUT_FILE, heldout_text), (DEV_FILE, dev_text))
        stale = [
            str(p.relative_to(ROOT)) for p, text in outputs if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"out of date: {', '.join(stale)} (run scripts/build_bitext.py)", file=sys.stderr)
            return 1
        print("bitext files up to date")
        return 0
    TRAIN_FILE.write_text(train_text, encoding="utf-8")
    HELDOUT_FILE.write_text(heldout_text, encoding="utf-8")
    DEV_FILE.write_text(dev_text, encoding="utf-8")
    print(" ".join(f"{k}={v}" for k, v in sorted(stats.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
