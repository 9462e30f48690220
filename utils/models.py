"""The stacked models: many small networks of one architecture evaluated together as one module.

A sweep over preprocessings x learning rates x seeds is hundreds of tiny networks; looping over
them in Python is slow. Every parameter tensor of a stacked model has the models on dim 0, so
``n_models`` networks run as one batched matmul (:class:`StackedMLP`) or one grouped convolution
(:class:`StackedCNN`), and :class:`utils.optim.StackedOptimizer` gives each its own learning rate
with a broadcast. ``parameter_names()`` lists the trained tensors in the order of a
``layer_multipliers`` row. Member ``i`` of a stack is the same network, whatever else is stacked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


# "default" is nn.Linear's initialization; "he" is He et al. (2015)'s, for ReLU networks.
INITS = ("default", "he")


class StackedMLP(nn.Module):
    """``n_models`` independent MLPs (``hidden_layers`` hidden layers of ``n_hidden`` units) evaluated
    together with batched matmuls.

    Layer ``k`` of all models is one parameter tensor ``weights[k]`` of shape (models, in, out)
    (and ``biases[k]`` of shape (models, 1, out)), so a forward pass is one ``baddbmm`` per layer
    and :func:`train_stacked` updates every model at its own learning rate in a few tensor ops.
    Initialization matches ``nn.Linear``'s default (kaiming_uniform with a = sqrt(5): weights
    uniform in +-1/sqrt(fan_in), variance 1/(3 fan_in)), drawn model by model from its seed.
    ``first_layer_init_scale`` (one value, or one per model) then multiplies the first layer's
    initial weights, e.g. 1/255 gives raw 0-255 inputs the starting function of a network
    built for inputs divided by 255. ``init="he"`` draws every weight from He et al.'s uniform
    rule instead (variance 2/fan_in: the default's draw times sqrt(6)) with zero biases, the
    initialization that keeps a ReLU network's signal size from layer to layer.
    """

    def __init__(
        self,
        seeds: Sequence[int],
        n_inputs: int,
        n_hidden: int,
        n_outputs: int,
        activation: str = "relu",
        input_norm: str | None = None,
        hidden_layers: int = 1,
        first_layer_init_scale: float | Sequence[float] = 1.0,
        init: str = "default",
    ):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        if input_norm not in (None, "batch", "layer"):
            raise ValueError(f"input_norm must be None, 'batch' or 'layer', got {input_norm!r}")
        if isinstance(hidden_layers, bool) or not isinstance(hidden_layers, int) or hidden_layers < 1:
            raise ValueError(f"hidden_layers must be a positive int, got {hidden_layers!r}")
        if len(seeds) == 0:
            raise ValueError("need at least one seed (one model)")
        scales = np.broadcast_to(np.asarray(first_layer_init_scale, dtype=np.float64), (len(seeds),))
        if not np.isfinite(scales).all() or (scales <= 0).any():
            raise ValueError(f"first_layer_init_scale must be positive and finite, got {first_layer_init_scale}")
        self.activation_name = activation
        self.activation = torch.relu if activation == "relu" else torch.tanh
        self.n_inputs = n_inputs
        self.n_models = len(seeds)
        # BatchNorm1d over n_models * n_inputs channels keeps each model's statistics and affine
        # parameters separate; LayerNorm normalizes each sample, so it needs no per-model state.
        self.input_norm = {
            None: None,
            "batch": nn.BatchNorm1d(len(seeds) * n_inputs),
            "layer": nn.LayerNorm(n_inputs, elementwise_affine=False),
        }[input_norm]
        widths = [n_inputs] + [n_hidden] * hidden_layers + [n_outputs]
        weights: list[list[torch.Tensor]] = [[] for _ in widths[1:]]
        biases: list[list[torch.Tensor]] = [[] for _ in widths[1:]]
        for seed, scale in zip(seeds, scales):
            torch.manual_seed(int(seed))  # the same seed gives the same initial network at every lr
            for depth, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
                layer = nn.Linear(a, b)
                # He's uniform bound sqrt(6/fan_in) is sqrt(6) times the default bound 1/sqrt(fan_in).
                gain = np.sqrt(6.0) if init == "he" else 1.0
                weights[depth].append(layer.weight.detach().T * gain * (float(scale) if depth == 0 else 1.0))
                biases[depth].append(layer.bias.detach()[None, :] * (0.0 if init == "he" else 1.0))
        self.weights = nn.ParameterList([nn.Parameter(torch.stack(w).contiguous()) for w in weights])
        self.biases = nn.ParameterList([nn.Parameter(torch.stack(b).contiguous()) for b in biases])

    def parameter_names(self) -> list[str]:
        """The trained parameter tensors, layer by layer (first-layer weight first), as ``get_parameter`` names.

        This is the order of a ``layer_multipliers`` row. An input BatchNorm's affine weight and bias
        are not among them: they stay at (1, 0), as they always have in this book's sweeps (the layer
        standardizes with batch statistics, the in-network twin of a scaler).
        """
        return [name for depth in range(len(self.weights)) for name in (f"weights.{depth}", f"biases.{depth}")]

    def member(self, index: int) -> nn.Sequential:
        """A copy of model ``index`` as an ordinary ``nn.Sequential`` of ``nn.Linear`` layers, for analysis tools."""
        if self.input_norm is not None:
            raise ValueError("members of a model with an input normalization layer cannot be taken apart")
        if not 0 <= index < self.n_models:
            raise ValueError(f"index must be in [0, {self.n_models}), got {index}")
        parts: list[nn.Module] = []
        for weight, bias in zip(self.weights, self.biases):
            layer = nn.Linear(weight.shape[1], weight.shape[2]).to(weight.device)
            with torch.no_grad():
                layer.weight.copy_(weight[index].T)
                layer.bias.copy_(bias[index, 0])
            parts += [layer, nn.ReLU() if self.activation_name == "relu" else nn.Tanh()]
        return nn.Sequential(*parts[:-1])

    def hidden_activations(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """Post-activation outputs of every hidden layer, each (n_models, batch, n_hidden)."""
        if isinstance(self.input_norm, nn.BatchNorm1d):
            n_models, batch, width = inputs.shape
            flat = inputs.permute(1, 0, 2).reshape(batch, n_models * width)
            inputs = self.input_norm(flat).reshape(batch, n_models, width).permute(1, 0, 2)
        elif self.input_norm is not None:
            inputs = self.input_norm(inputs)
        outputs, current = [], inputs
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            current = self.activation(torch.baddbmm(bias, current, weight))
            outputs.append(current)
        return outputs

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` (n_models, batch, n_inputs) -> logits (n_models, batch, n_outputs)."""
        return torch.baddbmm(self.biases[-1], self.hidden_activations(inputs)[-1], self.weights[-1])


def _uniform(generator: torch.Generator, shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
    # nn.Conv2d's and nn.Linear's default initialization: uniform in +-1/sqrt(fan_in).
    bound = 1.0 / np.sqrt(fan_in)
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


class StackedCNN(nn.Module):
    """``len(seeds)`` independent two-convolution CNNs, evaluated together as the groups of each ``conv2d``.

    Each member: conv 3x3 (padding 1, zeros) -> [BatchNorm] -> ReLU -> max-pool 2
    -> conv 3x3 (no padding) -> ReLU -> max-pool 2 -> linear.

    ``first_layer_init_scale`` (one value, or one per model) multiplies conv1's initial
    weights: ``1/255`` gives a raw-pixel network the starting point of a ``/255`` network.
    ``batch_norm=True`` puts a BatchNorm after conv1 (and drops conv1's bias, which it cancels);
    ``batch_norm_eps`` is its ε, the only place where a global input scale survives it.

    >>> model = StackedCNN([0, 1], in_channels=1, image_size=14, n_classes=10)
    >>> model(torch.zeros(2, 5, 1, 14, 14)).shape
    torch.Size([2, 5, 10])
    """

    def __init__(
        self,
        seeds: Sequence[int],
        in_channels: int,
        image_size: int,
        n_classes: int,
        channels: tuple[int, int] = (4, 8),
        batch_norm: bool = False,
        first_layer_init_scale: float | Sequence[float] = 1.0,
        batch_norm_eps: float = 1e-5,
    ):
        super().__init__()
        if len(seeds) == 0:
            raise ValueError("need at least one seed (one model)")
        if not np.isfinite(batch_norm_eps) or batch_norm_eps <= 0:
            raise ValueError(f"batch_norm_eps must be positive and finite, got {batch_norm_eps}")
        self.batch_norm_eps = float(batch_norm_eps)
        if image_size < 8:
            raise ValueError(f"image_size must be at least 8 for two conv + pool stages, got {image_size}")
        scales = np.broadcast_to(np.asarray(first_layer_init_scale, dtype=np.float64), (len(seeds),))
        if not np.isfinite(scales).all() or (scales <= 0).any():
            raise ValueError("first_layer_init_scale must be positive and finite")
        c1, c2 = channels
        self.n_models, self.in_channels, self.image_size, self.channels = len(seeds), in_channels, image_size, channels
        self.batch_norm = batch_norm
        side = ((image_size // 2) - 2) // 2
        n_flat = c2 * side * side
        parts = {name: [] for name in ("w1", "b1", "w2", "b2", "wl", "bl")}
        for seed, scale in zip(seeds, scales):
            g = torch.Generator().manual_seed(int(seed))  # same seed -> same network, whatever else is stacked
            parts["w1"].append(_uniform(g, (c1, in_channels, 3, 3), 9 * in_channels) * float(scale))
            parts["b1"].append(_uniform(g, (c1,), 9 * in_channels))
            parts["w2"].append(_uniform(g, (c2, c1, 3, 3), 9 * c1))
            parts["b2"].append(_uniform(g, (c2,), 9 * c1))
            parts["wl"].append(_uniform(g, (n_flat, n_classes), n_flat))
            parts["bl"].append(_uniform(g, (n_classes,), n_flat))
        for name, values in parts.items():
            if name == "b1" and batch_norm:
                continue
            setattr(self, name, nn.Parameter(torch.stack(values)))
        if batch_norm:
            self.bn_weight = nn.Parameter(torch.ones(self.n_models, c1))
            self.bn_bias = nn.Parameter(torch.zeros(self.n_models, c1))
            self.register_buffer("running_mean", torch.zeros(self.n_models * c1))
            self.register_buffer("running_var", torch.ones(self.n_models * c1))

    def parameter_names(self) -> list[str]:
        """Every parameter tensor, layer by layer (conv1's weight first), as ``get_parameter`` names.

        This is the order of a ``layer_multipliers`` row.

        >>> StackedCNN([0], 1, 8, 2).parameter_names()
        ['w1', 'b1', 'w2', 'b2', 'wl', 'bl']
        >>> StackedCNN([0], 1, 8, 2, batch_norm=True).parameter_names()
        ['w1', 'bn_weight', 'bn_bias', 'w2', 'b2', 'wl', 'bl']
        """
        first = ["w1", "bn_weight", "bn_bias"] if self.batch_norm else ["w1", "b1"]
        return first + ["w2", "b2", "wl", "bl"]

    def select(self, indices: Sequence[int]) -> "StackedCNN":
        """A new stack holding copies of members ``indices`` (in that order), for analyses of a few models.

        >>> StackedCNN([0, 1, 2], 1, 8, 2).select([2, 0]).n_models
        2
        """
        index = torch.as_tensor(list(indices), dtype=torch.long)
        if index.numel() == 0 or index.min() < 0 or index.max() >= self.n_models:
            raise ValueError(f"indices must be non-empty and in [0, {self.n_models}), got {list(indices)}")
        chosen = StackedCNN([0] * len(index), self.in_channels, self.image_size, self.wl.shape[2], self.channels,
                            self.batch_norm, batch_norm_eps=self.batch_norm_eps).to(self.wl.dtype)
        with torch.no_grad():
            for name, value in self.named_parameters():
                getattr(chosen, name).copy_(value[index.to(value.device)])
            if self.batch_norm:  # running statistics are stored flat, one per (model, channel)
                c1 = self.channels[0]
                for name in ("running_mean", "running_var"):
                    getattr(chosen, name).copy_(getattr(self, name).view(self.n_models, c1)[index].reshape(-1))
        return chosen.to(self.wl.device).eval()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` (n_models, batch, C, H, W), or (batch, C, H, W) shared by all -> logits (n_models, batch, K)."""
        m, c1, c2 = self.n_models, *self.channels
        if inputs.ndim == 4:
            inputs = inputs.expand(m, *inputs.shape)
        if inputs.ndim != 5 or inputs.shape[0] != m or inputs.shape[2] != self.in_channels:
            raise ValueError(
                f"inputs must have shape ({m}, batch, {self.in_channels}, H, W), got {tuple(inputs.shape)}"
            )
        batch = inputs.shape[1]
        # (M, B, C, H, W) -> (B, M*C, H, W): model i's channels are group i of every conv.
        x = inputs.transpose(0, 1).reshape(batch, m * self.in_channels, *inputs.shape[3:])
        bias1 = None if self.batch_norm else self.b1.reshape(-1)
        x = x.contiguous(memory_format=torch.channels_last)  # the grouped conv runs faster on a CPU in this layout
        x = F.conv2d(x, self.w1.reshape(m * c1, self.in_channels, 3, 3), bias1, padding=1, groups=m)
        if self.batch_norm:
            x = F.batch_norm(
                x, self.running_mean, self.running_var, self.bn_weight.reshape(-1), self.bn_bias.reshape(-1),
                training=self.training, eps=self.batch_norm_eps,
            )
        # relu(max_pool(x)) = max_pool(relu(x)) exactly (ReLU is monotone), on a quarter of the values.
        x = F.relu(F.max_pool2d(x, 2))
        x = F.relu(F.max_pool2d(F.conv2d(x, self.w2.reshape(m * c2, c1, 3, 3), self.b2.reshape(-1), groups=m), 2))
        x = x.reshape(batch, m, -1).transpose(0, 1)  # (M, B, features)
        return torch.baddbmm(self.bl[:, None, :], x, self.wl)
