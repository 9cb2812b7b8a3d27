"""A causal LM backbone with a linear two-class head on the last real token, and its checkpoint format.

A checkpoint is a directory: the backbone as an ordinary Hugging Face model (config.json + model.safetensors),
the tokenizer, and head.safetensors; or, for a model finetuned with LoRA, the adapters in place of the backbone
(w2s.models.lora). `Classifier.load` takes a hub id, a plain LM directory or either kind of checkpoint.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from w2s.errors import W2SError
from w2s.models import lora
from w2s.models.backbone import BackboneModel, substate
from w2s.models.paths import local_model_dir

HEAD_FILE = "head.safetensors"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
HEAD_INITS = ("zero", "random", "readout")
PICKLED_WEIGHTS = (".bin", ".pt", ".pth", ".pkl", ".ckpt")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "tokenizer.model",
    "spiece.model",
)


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position of the last attended token in each row: right for left and right padding alike."""
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    return (attention_mask * positions).argmax(dim=1)


class Classifier(BackboneModel):
    head_outputs = 2  # a logit per class (w2s.models.reward: one reward)

    def __init__(self, backbone: nn.Module, head_init: str = "zero"):
        super().__init__(backbone)
        self.head = nn.Linear(backbone.config.hidden_size, self.head_outputs, dtype=torch.float32)
        if head_init == "zero":  # the reference recipe: start at p = 0.5 for every input
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        elif head_init != "random":
            raise W2SError(
                f"head_init: unknown value {head_init!r}; expected one of {list(HEAD_INITS)}"
            )
        # Explicit position ids make left padding equivalent to right padding; not every backbone takes them.
        self.takes_position_ids = "position_ids" in inspect.signature(backbone.forward).parameters

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.read_head(self.features(input_ids, attention_mask))

    def read_head(self, features: torch.Tensor) -> torch.Tensor:
        """The head on the features, in the head's dtype: fp32, or bf16 in DeepSpeed's bf16 mode."""
        return self.head(features.to(self.head.weight.dtype))

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The final hidden state of each row's last real token, in float32: what the head reads (and a linear
        probe's input)."""
        extra = {}
        if self.takes_position_ids:
            extra["position_ids"] = (attention_mask.long().cumsum(dim=1) - 1).clamp(min=0)
        if (
            self.takes_use_cache
        ):  # no key/value cache: nothing reads it, and a recomputed layer would fill it twice
            extra["use_cache"] = False
        hidden = self.backbone(
            input_ids=input_ids, attention_mask=attention_mask, **extra
        ).last_hidden_state
        return hidden[
            torch.arange(hidden.shape[0], device=hidden.device), last_token_index(attention_mask)
        ].float()

    def init_readout(self, rows: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        """Set the head to the LM's unembedding rows of the (negative, positive) label tokens: before any
        finetuning the classifier then compares the LM's own logits for the two tokens (its zero-shot answer)."""
        with torch.no_grad():
            self.head.weight.copy_(rows.float())
            self.head.bias.copy_(bias.float() if bias is not None else torch.zeros(2))

    @classmethod
    def load(
        cls,
        name_or_path: str,
        dtype: str = "float32",
        head_init: str = "zero",
        trust_remote_code: bool = False,
        label_tokens: list[str] | None = None,
    ) -> Classifier:
        """Load a backbone by hub id or path; restore the head too when the path is a w2s checkpoint.

        head_init "readout" takes the head from the LM's unembedding rows of `label_tokens` (negative, positive).
        """
        from transformers import AutoModel, AutoModelForCausalLM
        from transformers.utils import logging

        if lora.is_adapter_checkpoint(name_or_path):
            return cls.load_adapted(name_or_path, dtype, trust_remote_code)
        path = local_model_dir(
            name_or_path
        )  # a hub id as its snapshot: the checks below read its files
        logging.set_verbosity_error()  # an LM checkpoint's unused lm_head weights are expected here, not news
        logging.disable_progress_bar()
        head_file = path / HEAD_FILE
        readout = head_init == "readout" and not head_file.exists()
        kind = AutoModelForCausalLM if readout else AutoModel
        refuse_pickled_only(path, name_or_path)
        try:  # safetensors only (also for hub models): never unpickle a download
            loaded = kind.from_pretrained(
                path, dtype=DTYPES[dtype], trust_remote_code=trust_remote_code, use_safetensors=True
            )
        except (
            OSError,
            ValueError,
        ) as exc:  # missing files; a directory that holds no known model type
            raise W2SError(f"could not load model {name_or_path!r}: {exc}") from exc
        model = cls(
            loaded.base_model if readout else loaded,
            "zero" if head_init == "readout" else head_init,
        )
        if head_file.exists():
            model.load_head(head_file, name_or_path)
        elif readout:
            model.init_readout(*readout_rows(loaded, name_or_path, label_tokens, trust_remote_code))
        return model

    @classmethod
    def load_adapted(cls, path: str | Path, dtype: str, trust_remote_code: bool) -> Classifier:
        """A LoRA checkpoint: its base model, with the adapters and head of the checkpoint."""
        model = cls.load(lora.read_base(path), dtype, trust_remote_code=trust_remote_code)
        lora.load_adapters(model.backbone, path)
        model.load_head(Path(path) / HEAD_FILE, str(path))
        return model

    def load_head(self, head_file: Path, name_or_path: str) -> None:
        head = load_file(head_file)
        outputs = head["weight"].shape[0] if "weight" in head else None
        if outputs != self.head_outputs:
            kinds = {1: "a reward model's (one reward)", 2: "a classifier's (two classes)"}
            raise W2SError(
                f"model {name_or_path!r}: its head has {outputs} outputs, {kinds.get(outputs, 'unknown')}, where "
                f"this run needs {kinds[self.head_outputs]}: it was trained on another kind of task"
            )
        self.head.load_state_dict(head)

    def save(self, out_dir: str | Path, tokenizer, state: dict | None = None) -> None:
        """The checkpoint: the backbone as a Hugging Face model (or, with LoRA, its adapters), the head, the
        tokenizer. From `state` (this module's state dict, e.g. gathered from ZeRO-3 partitions; with LoRA its
        trained entries suffice) where given, else from the module's weights."""
        out_dir = Path(out_dir)
        self.save_backbone(out_dir, state)
        head = substate(state, "head.") if state is not None else self.head.state_dict()
        save_file({k: v.contiguous() for k, v in head.items()}, out_dir / HEAD_FILE)
        tokenizer.save_pretrained(out_dir)


def refuse_pickled_only(path: Path, name_or_path: str) -> None:
    pickled = [p.name for p in path.glob("*") if p.suffix in PICKLED_WEIGHTS]
    if pickled and not any(path.glob("*.safetensors")):
        raise W2SError(
            f"model {name_or_path!r} has only pickled weights ({', '.join(sorted(pickled))}); w2s loads "
            "safetensors only, since a pickle can run code when loaded: convert them on a machine you "
            "trust (model.save_pretrained(path, safe_serialization=True))"
        )


def readout_rows(lm, name_or_path: str, label_tokens: list[str] | None, trust_remote_code: bool):
    """The unembedding rows (and biases, if the LM has them) of the negative and positive label tokens."""
    if not label_tokens or len(label_tokens) != 2:
        raise W2SError(
            f"model {name_or_path!r}: head_init 'readout' needs label_tokens [negative, positive]"
        )
    tokenizer = load_tokenizer(name_or_path, trust_remote_code)
    ids = []
    for token in label_tokens:
        encoded = tokenizer(token, add_special_tokens=False)["input_ids"]
        if len(encoded) != 1:
            raise W2SError(
                f"model {name_or_path!r}: label token {token!r} is {len(encoded)} tokens, not one"
            )
        ids.append(encoded[0])
    unembedding = lm.get_output_embeddings()
    bias = (
        unembedding.bias[ids].detach() if getattr(unembedding, "bias", None) is not None else None
    )
    return unembedding.weight[ids].detach(), bias


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    advice = "a model directory needs its tokenizer files beside config.json: save them with tokenizer.save_pretrained"
    local = local_model_dir(name_or_path)
    # Without any tokenizer file transformers builds an empty tokenizer from the config alone, and says nothing.
    if local.is_dir() and not any((local / name).exists() for name in TOKENIZER_FILES):
        raise W2SError(
            f"could not load the tokenizer of model {name_or_path!r}: none of {list(TOKENIZER_FILES)} is "
            f"there ({advice})"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(local, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:  # tokenizer files transformers cannot read
        raise W2SError(
            f"could not load the tokenizer of model {name_or_path!r} ({advice}): {exc}"
        ) from None
    if tokenizer.pad_token_id is None:  # GPT-2 style: padding is masked out, so any id will do
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
