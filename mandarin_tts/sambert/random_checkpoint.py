"""Random-weight Sambert checkpoints in KAN-TTS's exact format, for tests and checks.

`checkpoint_dict` is `{"optimizer", "scheduler", "steps", "model"}`, the top-level keys
KAN-TTS's Sambert trainer saves (kantts/train/trainer.py save_checkpoint). Whole voice
folders (am/ + voc/ + audio_config.yaml) are written by mandarin_tts.kantts.tiny_voice.

Random weights make the duration predictor output ~0 frames; we raise its output bias
(`variance_adaptor.duration_predictor.fc.bias`, default log(7) -> about 6 frames per unit).
"""

from __future__ import annotations

import math

import torch

from mandarin_tts.sambert.config import SambertConfig
from mandarin_tts.sambert.model import SambertModel

DUR_BIAS_KEY = "variance_adaptor.duration_predictor.fc.bias"
DUR_WEIGHT_KEY = "variance_adaptor.duration_predictor.fc.weight"


def random_state_dict(
    config: SambertConfig,
    seed: int = 0,
    dur_bias: float = math.log(7.0),
    dur_weight_scale: float = 1.0,
    perturb_layer_norms: bool = True,
) -> dict[str, torch.Tensor]:
    """PyTorch's default initialisation (as KAN-TTS's modules get), seeded, dur bias raised.

    dur_weight_scale > 1 spreads the per-unit durations (more varied lengths in tests).
    perturb_layer_norms moves LayerNorm gains/biases off 1/0 as training does: with beta = 0,
    LayerNorm(0) = 0 would hide any padding leak through a normalized padded position.
    """
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = SambertModel(config)
        if perturb_layer_norms:
            with torch.no_grad():
                for module in model.modules():
                    if isinstance(module, torch.nn.LayerNorm):
                        module.weight.add_(0.1 * torch.randn_like(module.weight))
                        module.bias.copy_(0.1 * torch.randn_like(module.bias))
    finally:
        torch.random.set_rng_state(generator_state)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state[DUR_BIAS_KEY].fill_(dur_bias)
    state[DUR_WEIGHT_KEY].mul_(dur_weight_scale)
    return state


def checkpoint_dict(
    state: dict[str, torch.Tensor], steps: int, lr: float = 0.001, warmup_steps: int = 4000
) -> dict[str, object]:
    """KAN-TTS's checkpoint layout: Adam and NoamLR state (fresh) around the model weights."""
    params = [torch.nn.Parameter(v.clone()) for v in state.values() if v.is_floating_point()]
    optimizer = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0)
    last = max(1, steps)
    scale = warmup_steps**0.5 * min(last**-0.5, last * warmup_steps**-1.5)
    scheduler = {
        "warmup_steps": warmup_steps,
        "base_lrs": [lr],
        "last_epoch": steps,
        "_step_count": steps + 1,
        "_get_lr_called_within_step": False,
        "_last_lr": [lr * scale],
    }
    return {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler,
        "steps": steps,
        "model": state,
    }
