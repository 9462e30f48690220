"""One optimizer for every stacked model: SGD, SGD with momentum 0.9 and Adam, a learning rate per model.

A stacked model holds ``n_models`` independent networks; each of its parameter tensors has the
models on dimension 0. :class:`StackedOptimizer` applies ``torch.optim``'s update rules to every
slice at once, with the learning rate of model ``i`` for tensor ``j`` equal to
``learning_rates[i] * layer_multipliers[i, j]`` (so a chapter can train the first layer at
``lr / 255**2`` and the rest at ``lr`` inside one stack). The tests compare it with ``torch.optim``
run model by model, with parameter groups for the per-layer case.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# "momentum" is SGD with heavy-ball momentum 0.9, the form of SGD practitioners actually use.
OPTIMIZER_NAMES = ("sgd", "momentum", "adam")
MOMENTUM = 0.9
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults


class StackedOptimizer:
    """SGD, SGD with momentum 0.9, or Adam over stacked parameters, one learning rate per model.

    ``learning_rates`` has one positive rate per model; ``layer_multipliers`` (optional) is
    (n_params,) for every model or (n_models, n_params), one non-negative factor per parameter
    tensor (0 freezes that tensor). ``weight_decay`` (one value, or one per model) is coupled L2 (added to the gradient, as
    ``torch.optim.SGD``/``Adam`` do) or, with ``decoupled_weight_decay=True``, decoupled
    (``torch.optim.AdamW``: the weights shrink by ``1 - rate * weight_decay`` before the update).
    ``adam_eps`` is Adam's ε (torch's default 1e-8); a tiny one (1e-30 in float64) makes Adam blind
    to a constant factor on a gradient, which is how a chapter checks Adam's per-layer identity.

    >>> w = torch.zeros(2, 3, requires_grad=True)
    >>> w.grad = torch.ones(2, 3)
    >>> StackedOptimizer([w], "sgd", [0.1, 0.2]).step()
    >>> w[:, 0].tolist()
    [-0.10000000149011612, -0.20000000298023224]
    """

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        name: str,
        learning_rates: Sequence[float] | np.ndarray | torch.Tensor,
        layer_multipliers: Sequence[float] | Sequence[Sequence[float]] | np.ndarray | None = None,
        weight_decay: float | Sequence[float] | np.ndarray = 0.0,
        decoupled_weight_decay: bool = False,
        adam_eps: float = ADAM_EPS,
    ):
        if name not in OPTIMIZER_NAMES:
            raise ValueError(f"optimizer must be one of {OPTIMIZER_NAMES}, got {name!r}")
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty")
        if isinstance(learning_rates, torch.Tensor):
            learning_rates = learning_rates.detach().cpu().numpy()
        rates = np.array(learning_rates, dtype=np.float64)
        if rates.ndim != 1 or len(rates) == 0:
            raise ValueError(f"learning_rates must be 1-D with one rate per model, got shape {rates.shape}")
        if not np.isfinite(rates).all() or (rates <= 0).any():
            raise ValueError(f"learning rates must be positive and finite, got {rates.tolist()}")
        n_models, n_params = len(rates), len(self.params)
        for j, param in enumerate(self.params):
            if not isinstance(param, torch.Tensor) or not param.is_floating_point():
                raise TypeError(f"parameter {j} must be a floating-point tensor")
            if param.ndim == 0 or param.shape[0] != n_models:
                raise ValueError(f"parameter {j} must have the {n_models} models on dim 0, got shape {tuple(param.shape)}")
        multipliers = np.ones((n_models, n_params)) if layer_multipliers is None else np.asarray(layer_multipliers, dtype=np.float64)
        if multipliers.shape == (n_params,):
            multipliers = np.broadcast_to(multipliers, (n_models, n_params))
        if multipliers.shape != (n_models, n_params):
            raise ValueError(
                f"layer_multipliers must have shape ({n_params},) or ({n_models}, {n_params}) "
                f"(one per parameter tensor), got {multipliers.shape}"
            )
        if not np.isfinite(multipliers).all() or (multipliers < 0).any():
            raise ValueError("layer_multipliers must be non-negative and finite")
        decay = np.asarray(weight_decay, dtype=np.float64)
        if decay.shape not in ((), (n_models,)) or not np.isfinite(decay).all() or (decay < 0).any():
            raise ValueError(f"weight_decay must be non-negative and finite, one value or one per model ({n_models}), got {weight_decay}")
        decay = np.broadcast_to(decay, (n_models,))
        if isinstance(adam_eps, bool) or not isinstance(adam_eps, (int, float, np.floating)) or not np.isfinite(adam_eps) or adam_eps <= 0:
            # 0 would divide 0 by 0 wherever a gradient has always been 0 (a dead unit)
            raise ValueError(f"adam_eps must be a positive finite number, got {adam_eps!r}")
        self.adam_eps = float(adam_eps)
        self.name, self.decoupled = name, bool(decoupled_weight_decay)
        self.n_models, self.step_count = n_models, 0
        # One decay for all models is a Python float, as in torch.optim; one per model is a broadcast tensor.
        uniform = bool((decay == decay[0]).all())
        self.weight_decay = float(decay[0]) if uniform else None
        self.decays = None if uniform else [self._per_model(decay, param) for param in self.params]
        self.any_decay = bool(decay.any())
        effective = rates[:, None] * multipliers  # float64 products, rounded once to the parameters' dtype
        self.rates = [self._per_model(effective[:, j], param) for j, param in enumerate(self.params)]
        # AdamW's factor 1 - lr * weight_decay, computed in float64 like torch's Python-float scalar.
        self.shrink = [self._per_model(1.0 - effective[:, j] * decay, param)
                       for j, param in enumerate(self.params)] if self.decoupled and self.any_decay else None
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in self.params]

    @staticmethod
    def _per_model(values: np.ndarray, param: torch.Tensor) -> torch.Tensor:
        """``values`` (n_models,) as a tensor that broadcasts over ``param``'s model slices."""
        shape = (len(values),) + (1,) * (param.ndim - 1)
        return torch.tensor(np.array(values, dtype=np.float64)).to(param.device, param.dtype).view(shape)

    def scale_rates(self, factors: Sequence[float] | np.ndarray) -> None:
        """Set every model's rates to ``factors[i]`` times their values at construction: a schedule (e.g. warmup)."""
        factors = np.asarray(factors, dtype=np.float64)
        if factors.shape != (self.n_models,) or not np.isfinite(factors).all() or (factors <= 0).any():
            raise ValueError(f"factors must be {self.n_models} positive finite numbers, got shape {factors.shape}")
        if self.shrink is not None:
            raise ValueError("a rate schedule with decoupled weight decay is not supported: its shrink factor would not follow")
        if not hasattr(self, "base_rates"):
            self.base_rates = [rate.clone() for rate in self.rates]
        self.rates = [base * self._per_model(factors, base) for base in self.base_rates]

    def zero_grad(self) -> None:
        """Drop every gradient, like ``torch.optim.Optimizer.zero_grad(set_to_none=True)``."""
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self, alive: torch.Tensor | None = None) -> None:
        """One update of every model, or only of the models where ``alive`` (bool, (n_models,)) is True.

        A model left out keeps its weights exactly, and its gradient (often NaN once it has
        diverged) never enters its optimizer state, so its NaNs cannot spread.
        """
        if alive is not None:
            alive = torch.as_tensor(alive)
            if alive.dtype != torch.bool or alive.shape != (self.n_models,):
                raise ValueError(f"alive must be a bool tensor of shape ({self.n_models},), got {alive.dtype} {tuple(alive.shape)}")
            if bool(alive.all()):
                alive = None  # nothing to mask: the cheaper path computes the same numbers
        self.step_count += 1
        t = self.step_count
        for j, (param, state) in enumerate(zip(self.params, self.state)):
            grad = param.grad
            if grad is None:
                continue
            keep = None if alive is None else alive.to(param.device).view(self.rates[j].shape)
            if keep is not None:
                grad = torch.where(keep, grad, torch.zeros_like(grad))
            if self.any_decay and not self.decoupled:  # coupled L2: the decay joins the gradient
                grad = grad.add(param, alpha=self.weight_decay) if self.decays is None else grad + self.decays[j] * param
            if self.shrink is not None:
                param.mul_(self.shrink[j] if keep is None else torch.where(keep, self.shrink[j], 1.0))
            rate = self.rates[j]
            if self.name == "sgd":
                update = rate * grad
            elif self.name == "momentum":  # torch.optim.SGD: buf = grad at first, then 0.9 buf + grad
                buffer = state.get("buffer")
                state["buffer"] = buffer = grad.clone() if buffer is None else buffer.mul_(MOMENTUM).add_(grad)
                update = rate * buffer
            else:  # torch.optim.Adam, bias-corrected, in torch's order of operations
                beta1, beta2 = ADAM_BETAS
                if not state:
                    state["m"], state["v"] = torch.zeros_like(param), torch.zeros_like(param)
                state["m"].lerp_(grad, 1 - beta1)
                state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denominator = (state["v"].sqrt() / (1 - beta2**t) ** 0.5).add_(self.adam_eps)
                update = rate / (1 - beta1**t) * state["m"] / denominator
            param.sub_(update if keep is None else torch.where(keep, update, torch.zeros_like(update)))
