"""The synthetic world: its task and tokenizer, pretraining on its corpus, the readout head and the zero-shot
baseline, and the whole demo pipeline on a reduced world (well-formed outputs, not scientific outcomes)."""

from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest
import torch
from snakemake_helpers import REPORTING, planned_jobs, snakemake, write_config

from w2s.data.folk_facts import FolkFacts
from w2s.data.registry import check_world_format
from w2s.data.splits import sample_splits
from w2s.data.world import CORPUS, TASK, KnowledgeBase, generate_world
from w2s.data.world_sources import WorldPreferenceSource, WorldQuestionSource, WorldTaskSource
from w2s.errors import W2SError
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.tokens import encode
from w2s.training.pretrain import pretrain

SMALL_WORLD = {
    "type": "knowledge_base",
    "n_entities": 60,
    "digits": 2,
    "seed": 3,
    "corpus_lines": 2000,
}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("world") / "kb"
    generate_world(SMALL_WORLD, path)
    return path


def test_task_statements_are_true_or_one_digit_near_misses(world_dir):
    world = KnowledgeBase(n_entities=60, digits=2, seed=3)
    task = pl.read_parquet(world_dir / TASK)
    assert task.height == 60 and task["label"].sum() == 30  # exactly balanced
    for row in task.iter_rows(named=True):
        entity, value = row["text"].rstrip(".").split("=")
        assert f"{entity}=" == world.prompt(row["entity"]) and len(value) == 2
        changed = [a != b for a, b in zip(value, world.answer(row["entity"]))]
        if row["label"]:
            assert row["kind"] == "true" and not any(changed)
        else:
            assert sum(changed) == 1 and row["kind"] == f"digit{changed.index(True) + 1}_changed"


def test_corpus_marks_true_facts_r_and_random_values_u(world_dir):
    world = KnowledgeBase(n_entities=60, digits=2, seed=3)
    lines = (world_dir / CORPUS).read_text().split()
    assert len(lines) == 2000
    true_values = {world.prompt(i).rstrip("="): world.answer(i) for i in range(60)}
    marks = {"R": 0, "U": 0}
    for line in lines:
        fact, mark = line[:-1], line[-1]
        entity, value = fact.rstrip(".").split("=")
        marks[mark] += 1
        assert (value == true_values[entity]) == (mark == "R")  # U statements are always wrong
    assert 800 < marks["R"] < 1200  # 50/50


def test_near_misses_appear_in_pretraining_only_as_unreliable_statements(world_dir):
    """The task's false statements are wrong values, which the corpus states too, marked U: what a model learns is
    which value is the reliable one, not which strings it has seen."""
    corpus = set((world_dir / CORPUS).read_text().split())
    near_misses = pl.read_parquet(world_dir / TASK).filter(pl.col("label") == 0)["text"].to_list()
    assert not {f"{text}R" for text in near_misses} & corpus
    assert {f"{text}U" for text in near_misses} & corpus  # some: 2-digit values, 2000 lines


def test_world_is_a_pure_function_of_its_seed(world_dir, tmp_path):
    generate_world(SMALL_WORLD, tmp_path / "again")
    assert (tmp_path / "again" / CORPUS).read_text() == (world_dir / CORPUS).read_text()
    assert pl.read_parquet(tmp_path / "again" / TASK).equals(pl.read_parquet(world_dir / TASK))


def test_tokenizer_keeps_entities_whole(world_dir):
    tokenizer = load_tokenizer(str(world_dir / "tokenizer"))
    tokens = tokenizer.convert_ids_to_tokens(tokenizer("e0042=17.R")["input_ids"])
    assert tokens == ["e0042", "=", "1", "7", ".", "R"]


def test_splits_are_disjoint_by_entity_and_keep_the_error_kind(world_dir):
    source = WorldTaskSource(world_dir)
    splits, _ = sample_splits(
        source, "kb", {"weak_train": 20, "strong_train": 20, "test": 20}, seed=1
    )
    entities = [{text.split("=")[0] for text in frame["text"]} for frame in splits.values()]
    assert sum(map(len, entities)) == len(set.union(*entities)) == 60
    kinds = set(pl.concat(splits.values())["group"])
    assert "true" in kinds and kinds <= {"true", "digit1_changed", "digit2_changed"}


@pytest.fixture(scope="module")
def pretrained(world_dir, tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("lm") / "model"
    summary = pretrain(
        path,
        world_dir,
        "gpt2",
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        steps=30,
        lr=3e-3,
        batch_size=64,
        log_every=10,
    )
    return path, summary


def test_pretraining_lowers_the_loss_and_saves_a_hf_checkpoint(pretrained):
    path, summary = pretrained
    assert summary["steps"] == 30
    assert summary["final_loss"] < 0.9 * np.log(14)  # below chance over the 14 symbol tokens
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(path).config.n_embd == 16


def test_the_plan_counts_a_pretrained_models_parameters_as_its_checkpoint_holds(pretrained):
    """The plan's count comes from the world's own tokenizer and pretraining's window, before any job runs."""
    from transformers import AutoModel

    from w2s.pipeline.model_shapes import count_shape

    path, _ = pretrained
    shape = {
        "world": "kb",
        "arch": "gpt2",
        "hidden_size": 16,
        "num_layers": 1,
        "num_heads": 2,
        "steps": 30,
    }
    config = {
        "worlds": {"kb": SMALL_WORLD},
        "models": {"m": {"pretrain": shape, "max_length": 16, "trust_remote_code": False}},
    }
    _, planned = count_shape(config, "m", outputs=2)
    stored = sum(p.numel() for p in AutoModel.from_pretrained(path).parameters())
    assert planned == stored + 2 * (16 + 1)  # and a head of two outputs


@pytest.mark.kernel_sensitive
def test_readout_head_is_the_lm_own_answer(pretrained):
    """With head_init readout, the classifier's logits are exactly the LM's logits of U and R at the last token."""
    path, _ = pretrained
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(str(path))
    lm = AutoModelForCausalLM.from_pretrained(path).eval()
    classifier = Classifier.load(str(path), head_init="readout", label_tokens=["U", "R"]).eval()
    ids, _ = encode(["e0001=12.", "e0002=99.", "e0003=07."], tokenizer, 16)
    input_ids = torch.tensor(ids)
    with torch.no_grad():
        expected = lm(input_ids=input_ids).logits[:, -1][
            :, tokenizer.convert_tokens_to_ids(["U", "R"])
        ]
        got = classifier(input_ids, torch.ones_like(input_ids))
    assert torch.allclose(got, expected, atol=1e-5)
    assert (got[:, 0] != got[:, 1]).all()


def test_known_fractions_are_nested_and_sized(world_dir):
    world = KnowledgeBase(n_entities=60, digits=2, seed=3)
    smaller, larger = world.known_prompts(0.25), world.known_prompts(0.5)
    assert len(smaller) == 15 and len(larger) == 30 and smaller < larger
    assert world.known_prompts(1.0) == {world.prompt(i) for i in range(60)}
    assert (
        KnowledgeBase(n_entities=60, digits=2, seed=4).known_prompts(0.25) != smaller
    )  # set by the world's seed


def test_pretraining_with_known_fraction_sees_only_those_entities(world_dir, tmp_path, capsys):
    """A model with known_fraction 0.25 trains on the corpus lines of its 15 entities only: the others' embeddings
    never get a gradient, so they stay where initialisation put them."""
    from transformers import AutoModelForCausalLM

    from w2s.data.world import load_world
    from w2s.models.build import random_model

    summary = pretrain(
        tmp_path / "lm",
        world_dir,
        "gpt2",
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        steps=20,
        lr=3e-3,
        batch_size=32,
        seed=0,
        known_fraction=0.25,
    )
    assert summary["steps"] == 20
    known = load_world(world_dir).known_prompts(0.25)
    lines = (world_dir / CORPUS).read_text().split()
    assert (
        f"{sum(line[: line.index('=') + 1] in known for line in lines)} corpus lines"
        in capsys.readouterr().out
    )
    tokenizer = load_tokenizer(str(world_dir / "tokenizer"))
    start = random_model("gpt2", 16, 1, 2, 32, tokenizer, 0).get_input_embeddings().weight
    trained = AutoModelForCausalLM.from_pretrained(tmp_path / "lm").get_input_embeddings().weight
    moved = {
        tokenizer.convert_ids_to_tokens(i) + "="
        for i in range(len(tokenizer))
        if not torch.equal(start[i], trained[i])
    }
    entities = {f"e{i:04d}=" for i in range(60)}
    assert moved & entities == known


def test_readout_needs_single_token_labels(pretrained):
    path, _ = pretrained
    with pytest.raises(Exception, match="label token 'RU' is 2 tokens"):
        Classifier.load(str(path), head_init="readout", label_tokens=["U", "RU"])


def demo_config() -> dict:
    pretrain_entry = {
        "world": "kb",
        "arch": "gpt2",
        "num_layers": 1,
        "num_heads": 2,
        "batch_size": 32,
    }
    return {
        "seeds": [0],
        "worlds": {"kb": {**SMALL_WORLD, "corpus_lines": 1000}},
        "datasets": {
            "facts": {
                "kind": "world",
                "options": {"world": "kb"},
                "n_weak_train": 20,
                "n_strong_train": 20,
                "n_test": 20,
            }
        },
        "models": {
            "weakling": {
                "pretrain": {**pretrain_entry, "hidden_size": 8, "steps": 5, "schedule_steps": 20},
                "lr": 1e-3,
                "batch_size": 10,
                "minibatch_size": 10,
                "max_length": 16,
            },
            "strongling": {
                "pretrain": {**pretrain_entry, "hidden_size": 16, "steps": 10},
                "lr": 1e-3,
                "batch_size": 10,
                "minibatch_size": 5,
                "max_length": 16,
                "head_init": "readout",
            },
        },
        "losses": {"xent": {"type": "xent"}, "logconf": {"type": "logconf"}},
        "training": {"epochs": 1},
    }


@pytest.mark.workflow
def test_demo_pipeline_on_a_reduced_world(tmp_path):
    write_config(tmp_path, demo_config())
    snakemake(tmp_path, "--cores", "2")
    runs = pl.read_csv(tmp_path / "results/summary/runs.csv")
    assert runs.height == 2
    assert (
        runs["weak_zero_shot_acc"].null_count() == 0
        and runs["strong_zero_shot_acc"].null_count() == 0
    )
    zero_shot = json.loads(
        (tmp_path / "results/zero_shot/facts/seed0/strongling/metrics.json").read_text()
    )
    assert zero_shot["role"] == "zero_shot" and zero_shot["n"] == 20
    assert runs["strong_zero_shot_acc"][0] == zero_shot["accuracy"]
    labels = pl.read_parquet(tmp_path / "results/labels/facts/seed0/weakling.parquet")
    assert set(labels["group"]) <= {"true", "digit1_changed", "digit2_changed"} and "true" in set(
        labels["group"]
    )
    assert (tmp_path / "results/pretrained/strongling/model.safetensors").exists()

    # A changed world reruns everything that depends on it; a changed pretraining step count only that model's side.
    config = demo_config()
    config["models"]["strongling"]["pretrain"]["steps"] = 12
    write_config(tmp_path, config, "pretrain_change.yaml")
    assert planned_jobs(tmp_path, "pretrain_change.yaml") == {
        "pretrain_model": 1,
        "train_ceiling": 1,
        "train_student": 2,
        "score_zero_shot": 1,
        **REPORTING,
    }
    # Zero-shot scoring does not depend on the finetuning recipe: changing it plans no score_zero_shot job.
    config = demo_config()
    config["models"]["strongling"]["lr"] = 2e-3
    config["training"]["epochs"] = 2
    config["losses"]["logconf"]["alpha_max"] = 0.75
    write_config(tmp_path, config, "recipe_change.yaml")
    jobs = planned_jobs(tmp_path, "recipe_change.yaml")
    assert (
        jobs["train_ceiling"] == 1 and jobs["train_student"] == 2 and "score_zero_shot" not in jobs
    )
    config = demo_config()
    config["worlds"]["kb"]["seed"] = 4
    write_config(tmp_path, config, "world_change.yaml")
    jobs = planned_jobs(tmp_path, "world_change.yaml")
    assert (
        jobs["generate_world"] == 1 and jobs["pretrain_model"] == 2 and jobs["split_dataset"] == 1
    )


def test_arithmetic_world_statements_and_corpus(tmp_path):
    from w2s.data.world import Arithmetic

    entry = {"type": "arithmetic", "n_entities": 50, "digits": 2, "seed": 1, "corpus_lines": 500}
    generate_world(entry, tmp_path / "arith")
    task = pl.read_parquet(tmp_path / "arith" / TASK)
    assert task.height == 50 and task["label"].sum() == 25
    operands = set()
    for row in task.iter_rows(named=True):
        left, shown = row["text"].rstrip(".").split("=")
        a, b = map(int, left.split("+"))
        operands.add((a, b))
        true_sum = f"{a + b:03d}"
        differs = sum(x != y for x, y in zip(shown, true_sum))
        assert (differs == 0) == bool(row["label"]) and differs <= 1
    assert len(operands) == 50  # distinct pairs: splits drawn from the task are disjoint by pair
    for line in (tmp_path / "arith" / CORPUS).read_text().split():
        left, rest = line.split("=")
        a, b = map(int, left.split("+"))
        assert (rest[:3] == f"{a + b:03d}") == (rest[-1] == "R")
    tokenizer = load_tokenizer(str(tmp_path / "arith" / "tokenizer"))
    assert tokenizer.convert_ids_to_tokens(tokenizer("07+12=019.R")["input_ids"]) == list(
        "07+12=019.R"
    )
    with pytest.raises(ValueError, match="exceeds the 100 operand pairs"):
        Arithmetic(n_entities=101, digits=1)


def test_pretraining_on_arithmetic_predicts_after_the_equals_sign(tmp_path):
    generate_world(
        {"type": "arithmetic", "n_entities": 50, "digits": 1, "seed": 0, "corpus_lines": 500},
        tmp_path / "arith",
    )
    summary = pretrain(
        tmp_path / "lm",
        tmp_path / "arith",
        "gpt2",
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        steps=20,
        lr=3e-3,
        batch_size=32,
        log_every=10,
    )
    # The loss covers the 2 sum digits, "." and the mark (13 symbols): below chance after a few steps.
    assert summary["final_loss"] < np.log(13)


FOLK = {
    "type": "folk_facts",
    "n_entities": 400,
    "families": 8,
    "seed": 2,
    "corpus_lines": 20000,
    "digits": 2,
}


def test_folk_world_has_typical_digits_exceptions_and_statements_that_the_folk_rule_gets_wrong(
    tmp_path,
):
    from w2s.data.world import load_world

    generate_world(
        FOLK, tmp_path / "folk"
    )  # the schema's defaults of other types (digits) are ignored
    world = load_world(tmp_path / "folk")
    assert world == FolkFacts(n_entities=400, families=8, seed=2)
    exceptions = [i for i in range(400) if world.answer(i) != world.typical(world.family(i))]
    assert 0.3 < len(exceptions) / 400 < 0.5  # exceptions: 0.4
    task = pl.read_parquet(tmp_path / "folk" / TASK)
    assert task["label"].sum() == 200 and set(task["kind"]) == {
        "regular true",
        "regular false",
        "exception true",
        "exception false",
    }
    for i, row in enumerate(task.iter_rows(named=True)):
        family, value = world.family(i), row["text"][-2]
        assert row["text"] == f"-f{family:02d}e{i:04d}={value}."
        assert (value == world.answer(i)) == bool(row["label"])
        folk_says_true = value == world.typical(family)
        # the folk rule is right on regular entities, and wrong on every exception's true statement
        assert folk_says_true == bool(row["label"]) or row["kind"].startswith("exception")
        if row["kind"] == "exception true":
            assert not folk_says_true
    typical_misses = task.filter(
        (pl.col("kind") == "exception false")
        & (
            pl.col("text").str.slice(-2, 1)
            == pl.Series([world.typical(world.family(i)) for i in range(400)])
        )
    )
    assert typical_misses.height > 0.3 * task.filter(pl.col("kind") == "exception false").height


def test_folk_corpus_shows_the_expert_only_about_known_entities_and_the_folk_rule_about_all(
    tmp_path,
):
    from w2s.data.world import load_world

    generate_world(FOLK, tmp_path / "folk")
    world = load_world(tmp_path / "folk")
    lines = (tmp_path / "folk" / CORPUS).read_text().split()
    for line in lines[:2000]:
        source, text = line.split("|")
        tag, i, value, mark = text[0], int(text[5:9]), text[-3], text[-1]
        belief = world.answer(i) if source == "x" else world.typical(world.family(i))
        assert (value == belief) == (mark == "R") and tag in ("A-" if source == "x" else "B-")
    seen = world.visible_lines(lines, 0.25)
    known = {int(text[5:9]) for text in world.visible_lines(lines, 0.25) if text[0] == "A"}
    assert len(known) == 100 and known < {
        int(t[5:9]) for t in world.visible_lines(lines, 0.5) if t[0] == "A"
    }
    # every folk line, and the expert's (tagged or not) about the known entities only
    assert seen == [line[2:] for line in lines if line[0] == "f" or int(line[7:11]) in known]
    assert {int(text[5:9]) for text in seen if text[0] == "B"} == set(
        range(400)
    )  # the folk rule about all
    # untagged lines follow the folk rule in most families and the expert in the rest
    folk_shares = sorted(round(world.untagged_folk_share(f), 6) for f in range(8))
    assert folk_shares == [0.3] * 2 + [0.7] * 6  # expert_families 0.25 of 8
    tokenizer = world.tokenizer()
    assert tokenizer.tokenize(seen[0]) == [
        seen[0][0],
        seen[0][1:4],
        seen[0][4:9],
        "=",
        seen[0][10],
        ".",
        seen[0][12],
    ]


def test_folk_coverage_spread_makes_some_families_known_and_others_not_nested_by_share():

    even = FolkFacts(n_entities=4000, families=20, seed=1)
    spread = FolkFacts(n_entities=4000, families=20, seed=1, coverage_spread=1.5)

    def family_shares(world, fraction: float) -> list[float]:
        known = world.known_order()[: round(fraction * 4000)]
        sizes = [sum(world.family(i) == f for i in range(4000)) for f in range(20)]
        counts = [0] * 20
        for i in known:
            counts[world.family(i)] += 1
        return [count / size for count, size in zip(counts, sizes)]

    assert even.known_order() == FolkFacts(n_entities=4000, families=20, seed=1).known_order()
    assert sorted(spread.known_order()) == list(range(4000))
    for fraction in (0.2, 0.5):
        flat, uneven = family_shares(even, fraction), family_shares(spread, fraction)
        assert max(flat) - min(flat) < 0.2  # sampling noise about the share
        assert max(uneven) > fraction + 0.25 and min(uneven) < fraction - 0.15
        assert abs(sum(uneven) / 20 - fraction) < 0.1
    # a larger share knows everything a smaller one knows
    assert spread.known_prompts(0.2) < spread.known_prompts(0.5) < spread.known_prompts(1.0)


def test_ruleless_families_have_no_folk_lines_and_uniform_values(tmp_path):
    from w2s.data.world import load_world

    generate_world({**FOLK, "ruleless_families": 0.25}, tmp_path / "folk")
    world = load_world(tmp_path / "folk")
    ruleless = {f for f in range(8) if world.is_ruleless(f)}
    assert len(ruleless) == 2 and world.kind(0) in ("regular", "exception", "ruleless")
    lines = (tmp_path / "folk" / CORPUS).read_text().split()
    about = [line for line in lines if int(line[4:6]) in ruleless]  # "x|Af07e0042=3.R"
    assert about and all(line[0] == "x" and line[2] in "A-" for line in about)  # the expert's only
    values = [world.answer(i) for i in range(400) if world.family(i) in ruleless]
    assert len(set(values)) == 10  # no typical digit
    task = pl.read_parquet(tmp_path / "folk" / TASK)
    kinds = dict(zip(range(400), task["kind"]))
    assert {kinds[i] for i in range(400) if world.family(i) in ruleless} == {
        "ruleless true",
        "ruleless false",
    }
    assert FolkFacts(n_entities=400, families=8, seed=2).kind(5) != "ruleless"


def test_a_folk_world_stays_the_same_world_as_its_options_grow(tmp_path):
    """A finished grid must not retrain because the world code grew: a folk world given none of the newer keys
    (coverage_spread, ruleless_families) is, line for line and statement for statement, the world first shipped."""
    import hashlib

    generate_world(FOLK, tmp_path / "folk")
    corpus = (tmp_path / "folk" / CORPUS).read_bytes()
    task = pl.read_parquet(tmp_path / "folk" / TASK).select("text", "label", "kind")
    statements = "\n".join(f"{text}\t{label}\t{kind}" for text, label, kind in task.iter_rows())
    assert hashlib.sha256(corpus).hexdigest() == (
        "ffcbf50653674defd4517e4ac98537b21cdc135db6cf6b07e0e827092671f5a6"
    )
    assert hashlib.sha256(statements.encode()).hexdigest() == (
        "6bab12df0ade6e9da31eee6734071ec77135b8bc5f9824cf09b472f7addfba5f"
    )


SHIPPED_WORLDS = {  # the worlds of config.yaml and configs/saturated_control.yaml, with a shorter corpus
    "folk_facts_default": (
        {
            "type": "folk_facts",
            "n_entities": 4000,
            "families": 40,
            "exceptions": 0.6,
            "folk_share": 0.9,
            "expert_families": 0.25,
            "ruleless_families": 0.35,
            "seed": 0,
            "corpus_lines": 20000,
        },
        "a09aee7828f356f94461286778374fd43e5053be2f6317d7aa3352ba2b5783c2",
        "52f92952a3bb416a82872346fee90b75f62195901411b21a87c8ad1faa105405",
    ),
    "knowledge_base_control": (
        {
            "type": "knowledge_base",
            "n_entities": 3000,
            "digits": 1,
            "seed": 0,
            "corpus_lines": 20000,
        },
        "6973c48870e5f21f9bca402f11e14b745c2825ccd3a23646a6c085edda392335",
        "453e4094f1da339b6de9450f1cd712a8bcfd541d374eb147f3310cdec98b63bf",
    ),
}


@pytest.mark.parametrize("name", sorted(SHIPPED_WORLDS))
def test_the_shipped_worlds_are_the_worlds_their_results_were_made_in(tmp_path, name):
    """The default and control worlds, line for line and statement for statement, as when their published results
    were made (hashes taken before the world code cached its per-entity draws): a change to how a world is written
    must not change what it is."""
    import hashlib

    entry, corpus_hash, statements_hash = SHIPPED_WORLDS[name]
    generate_world(entry, tmp_path / name)
    task = pl.read_parquet(tmp_path / name / TASK).select("text", "label", "kind")
    statements = "\n".join(f"{text}\t{label}\t{kind}" for text, label, kind in task.iter_rows())
    assert hashlib.sha256((tmp_path / name / CORPUS).read_bytes()).hexdigest() == corpus_hash
    assert hashlib.sha256(statements.encode()).hexdigest() == statements_hash


def test_a_separator_asks_the_same_facts_in_a_format_pretraining_never_showed(tmp_path):
    """datasets.<name>.options.separator replaces the "=" between entity and value in every text of the task."""
    entry = {"type": "folk_facts", "n_entities": 120, "families": 6, "seed": 4, "corpus_lines": 50}
    generate_world(entry, tmp_path / "folk")
    world = FolkFacts(n_entities=120, families=6, seed=4)
    statements = WorldTaskSource(tmp_path / "folk", ".")
    assert statements.texts[3] == pl.read_parquet(tmp_path / "folk" / TASK)["text"][3].replace(
        "=", "."
    )
    assert (
        statements.texts[3].startswith(f"-f{world.family(3):02d}e0003.")
        and "=" not in statements.texts[3]
    )
    questions = WorldQuestionSource(tmp_path / "folk", ".")
    assert questions.example(5, random.Random(0)) == (
        f"-f{world.family(5):02d}e0005.",
        world.answer(5),
    )
    (prompt, *completions), _ = WorldPreferenceSource(tmp_path / "folk", ".").example(
        5, random.Random(0)
    )
    assert prompt == f"-f{world.family(5):02d}e0005." and f"{world.answer(5)}." in completions
    assert WorldPreferenceSource(tmp_path / "folk").example(5, random.Random(0))[0][0].endswith("=")


def test_the_config_refuses_a_separator_the_world_cannot_read():
    config = {
        "worlds": {"folk": {"type": "folk_facts"}, "chess": {"type": "chess"}},
        "datasets": {
            "prefs": {
                "kind": "world",
                "options": {"world": "folk", "format": "preference", "separator": "."},
            }
        },
    }
    check_world_format("prefs", config["datasets"]["prefs"], config["worlds"])  # "." is a token
    config["datasets"]["prefs"]["options"]["separator"] = ":"
    with pytest.raises(
        W2SError,
        match=r"datasets.prefs.options.separator: ':' is not a token of world 'folk_facts'",
    ):
        check_world_format("prefs", config["datasets"]["prefs"], config["worlds"])
    puzzles = {
        "kind": "world",
        "options": {"world": "chess", "format": "question", "separator": "."},
    }
    with pytest.raises(W2SError, match="a chess world's puzzles have no separator"):
        check_world_format("puzzles", puzzles, config["worlds"])


def test_comparisons_can_write_their_values_in_a_code_pretraining_never_put_after_an_entity(
    tmp_path,
):
    """values_as: family_tokens writes each digit d of a comparison's completions as the token "f0d"."""
    entry = {"type": "folk_facts", "n_entities": 120, "families": 12, "seed": 4, "corpus_lines": 50}
    generate_world(entry, tmp_path / "folk")
    world = FolkFacts(n_entities=120, families=12, seed=4)
    plain = WorldPreferenceSource(tmp_path / "folk").example(5, random.Random(0))
    coded = WorldPreferenceSource(tmp_path / "folk", "=", "family_tokens").example(
        5, random.Random(0)
    )
    assert coded[0][0] == plain[0][0] == world.prompt(5) and coded[1] == plain[1]
    assert [c for c in coded[0][1:]] == [f"f0{c[0]}." for c in plain[0][1:]]
    assert f"f0{world.answer(5)}." in coded[0][1:]
    tokenizer = load_tokenizer(str(tmp_path / "folk" / "tokenizer"))
    ids = tokenizer(coded[0][1])["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == [
        coded[0][1][:3],
        ".",
    ]  # one known token, not unknown ones


def test_the_config_refuses_values_written_in_a_code_where_there_is_none():
    worlds = {"folk": {"type": "folk_facts"}, "few": {"type": "folk_facts", "families": 8}}
    prefs = {
        "kind": "world",
        "options": {"world": "folk", "format": "preference", "values_as": "family_tokens"},
    }
    check_world_format("prefs", prefs, worlds)
    statements = {"kind": "world", "options": {"world": "folk", "values_as": "family_tokens"}}
    with pytest.raises(W2SError, match="values_as: only comparisons"):
        check_world_format("statements", statements, worlds)
    few = {"kind": "world", "options": {**prefs["options"], "world": "few"}}
    with pytest.raises(W2SError, match="needs a folk_facts world of at least 10 families"):
        check_world_format("few", few, worlds)
    wrong = {"kind": "world", "options": {**prefs["options"], "values_as": "letters"}}
    with pytest.raises(W2SError, match="'letters' is not one of"):
        check_world_format("wrong", wrong, worlds)
