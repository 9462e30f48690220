import numpy as np
import pytest
import torch
from torch import nn

from utils import sensitivity


def _network(n_inputs=4, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_inputs, 8), nn.ReLU(), nn.Linear(8, 3)).double()


def _raw(n=6, d=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, d)).astype(float)


def test_gradients_match_finite_differences_of_each_measure():
    model, raw = _network(), _raw()
    shift, scale = raw.mean(0), raw.std(0) + 1.0
    gradients = sensitivity.output_gradients(model, raw, shift, scale)
    step = 1e-4
    with torch.no_grad():
        def measures(x):
            logits = model(torch.tensor((x - shift) / scale))
            top, order = logits.sort(dim=1, descending=True)
            return logits, torch.log_softmax(logits, 1), top[:, 0] - top[:, 1], order[:, 0]
        logits, log_p, margin, predicted = measures(raw)
        rows = torch.arange(len(raw))
        for feature in range(raw.shape[1]):
            moved = raw.copy(); moved[:, feature] += step
            logits2, log_p2, margin2, _ = measures(moved)
            assert np.allclose((logits2[rows, predicted] - logits[rows, predicted]) / step, gradients["logit"][:, feature], atol=1e-6)
            assert np.allclose((log_p2[rows, predicted] - log_p[rows, predicted]) / step, gradients["log_prob"][:, feature], atol=1e-6)
            assert np.allclose((margin2 - margin) / step, gradients["margin"][:, feature], atol=1e-6)


def test_twin_networks_have_the_same_sensitivity_in_raw_units():
    # A network for standardized inputs and its twin for raw inputs (first layer absorbs the map).
    from utils.analysis import absorb_affine

    model, raw = _network(), _raw()
    shift, scale = raw.mean(0), raw.std(0) + 1.0
    twin = nn.Sequential(absorb_affine(model[0], -shift / scale, 1 / scale).double(), nn.ReLU(), model[2])
    for name, values in sensitivity.output_gradients(model, raw, shift, scale).items():
        assert np.allclose(values, sensitivity.output_gradients(twin, raw)[name], rtol=1e-9, atol=1e-12), name
    assert np.array_equal(sensitivity.smallest_change(model, raw, shift, scale), sensitivity.smallest_change(twin, raw))


def test_smallest_change_agrees_with_a_brute_force_search():
    model, raw = _network(seed=3), _raw(n=5, seed=1)
    shift, scale = 128.0, 30.0
    found = sensitivity.smallest_change(model, raw, shift, scale)
    found_probability = sensitivity.smallest_change(model, raw, shift, scale, probability=0.05)
    with torch.no_grad():
        def predict(x):
            p = torch.softmax(model(torch.tensor((x - shift) / scale)), 1)
            return p.argmax(1).numpy(), p.numpy()
        label, p0 = predict(raw)
        for feature in range(raw.shape[1]):
            candidates = np.concatenate([sensitivity.LADDER, -sensitivity.LADDER])
            for i in range(len(raw)):
                tried = np.concatenate([candidates, [0 - raw[i, feature], 255 - raw[i, feature]]])
                tried = tried[(raw[i, feature] + tried >= 0) & (raw[i, feature] + tried <= 255) & (tried != 0)]
                moved = np.repeat(raw[i : i + 1], len(tried), axis=0); moved[:, feature] += tried
                new_label, p = predict(moved)
                flips = np.abs(tried[new_label != label[i]])
                shifts = np.abs(tried[np.abs(p[:, label[i]] - p0[i, label[i]]) >= 0.05])
                assert found[i, feature] == (flips.min() if flips.size else np.inf)
                assert found_probability[i, feature] == (shifts.min() if shifts.size else np.inf)


def test_generic_models_take_the_slow_path_with_the_same_answer():
    model, raw = _network(), _raw()
    wrapped = nn.Sequential(nn.Identity(), *model)  # first module is not Linear: full inputs are moved
    assert np.array_equal(sensitivity.smallest_change(model, raw, 10.0, 50.0, probability=0.01),
                          sensitivity.smallest_change(wrapped, raw, 10.0, 50.0, probability=0.01))
    assert np.allclose(sensitivity.probability_change(model, raw, 10.0, 50.0, features=[1, 3]),
                       sensitivity.probability_change(wrapped, raw, 10.0, 50.0, features=[1, 3]))


def test_probability_change_steps_down_at_the_top_of_the_range():
    layer = nn.Linear(1, 2, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0], [0.0]]))
    up, down = sensitivity.probability_change(layer, [[0.0], [10.0]], high=10.0)[:, 0]
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert np.isclose(up, sigmoid(1) - sigmoid(0)) and np.isclose(down, sigmoid(10) - sigmoid(9))
    assert sensitivity.fraction_moved([[up, down]], threshold=0.01) == 0.5


@pytest.mark.parametrize("call", [
    lambda m: sensitivity.output_gradients(m, [[np.nan, 1.0, 2.0, 3.0]]),
    lambda m: sensitivity.smallest_change(m, [[np.nan, 1.0, 2.0, 3.0]]),
    lambda m: sensitivity.probability_change(m, [[np.inf, 1.0, 2.0, 3.0]]),
    lambda m: sensitivity.all_features_change(m, [[np.nan, 1.0, 2.0, 3.0]]),
])
def test_nan_and_inf_are_rejected(call):
    with pytest.raises(ValueError, match="NaN|inf"):
        call(_network())


def test_a_model_with_a_different_number_of_inputs_is_rejected():
    for call in (sensitivity.output_gradients, sensitivity.smallest_change, sensitivity.probability_change,
                 sensitivity.all_features_change):
        with pytest.raises(ValueError, match="takes 4 input features, but the data have 3"):
            call(_network(4), _raw(d=3))


def test_wrong_shapes_and_settings_are_rejected():
    model, raw = _network(), _raw()
    with pytest.raises(ValueError, match="1-D or 2-D"):
        sensitivity.output_gradients(model, raw[None])
    with pytest.raises(ValueError, match="scale"):
        sensitivity.output_gradients(model, raw, scale=[1.0, 2.0])
    with pytest.raises(ValueError, match="contains 0"):
        sensitivity.smallest_change(model, raw, scale=0.0)
    with pytest.raises(ValueError, match="range"):
        sensitivity.smallest_change(model, raw + 300)
    with pytest.raises(ValueError, match="probability"):
        sensitivity.smallest_change(model, raw, probability=1.5)
    with pytest.raises(ValueError, match="features"):
        sensitivity.probability_change(model, raw, features=[7])
    with pytest.raises(ValueError, match="step"):
        sensitivity.probability_change(model, raw, step=0.0)
    with pytest.raises(TypeError):
        sensitivity.output_gradients("not a model", raw)
    with pytest.raises(TypeError, match="numbers"):
        sensitivity.output_gradients(model, np.array([["a"] * 4]))
    with pytest.raises(ValueError, match="threshold"):
        sensitivity.fraction_moved([[0.1]], threshold=np.nan)
    with pytest.raises(ValueError, match="NaN"):
        sensitivity.fraction_moved([[np.nan]], threshold=0.1)


def test_all_features_change_adds_up_what_single_features_do_and_stays_in_range():
    model, raw = _network(), _raw()
    together = sensitivity.all_features_change(model, raw, step=2.0)
    alone = sensitivity.probability_change(model, raw, step=2.0)
    assert together.shape == (len(raw),) and (together > 0).all()
    # Moving every feature against the gradient lowers the probability more than any single feature's change.
    assert (together > alone.max(axis=1)).all()
    only_first = sensitivity.all_features_change(model, raw, step=2.0, features=[0])
    assert (only_first <= together).all()


def test_all_features_change_clips_at_the_range_and_moves_only_the_features_named():
    # Logits (300 - x0, 0): class 0 is predicted at x0 = 255 and its probability falls as x0 rises, so the
    # attack wants to move x0 up, which the range forbids: the drop is exactly 0.
    layer = nn.Linear(2, 2).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[-1.0, 0.5], [0.0, 0.0]]))
        layer.bias.copy_(torch.tensor([300.0, 0.0]))
    assert sensitivity.all_features_change(layer, [[255.0, 10.0]], features=[0])[0] == 0.0
    # Inside the range, by hand: x0 up by 3 (logit 0 from 5 to 2), x1 untouched although its gradient is not 0.
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    drop = sensitivity.all_features_change(layer, [[296.0, 2.0]], step=3.0, high=400.0, features=[0])[0]
    assert np.isclose(drop, sigmoid(300 - 296 + 1.0) - sigmoid(300 - 299 + 1.0))
    # Given signs replace the gradient's direction: moving x0 down raises the probability (a negative drop).
    assert sensitivity.all_features_change(layer, [[296.0, 2.0]], step=3.0, high=400.0, features=[0], signs=[[-1.0]])[0] < 0
    with pytest.raises(ValueError, match="signs"):
        sensitivity.all_features_change(layer, [[200.0, 2.0]], signs=[[0.5, 1.0]])
    with pytest.raises(ValueError, match="step"):
        sensitivity.all_features_change(layer, [[200.0, 2.0]], step=-1.0)
    with pytest.raises(ValueError, match="features"):
        sensitivity.all_features_change(layer, [[200.0, 2.0]], features=[9])


def test_the_criterion_constants_are_fixed_numbers():
    # The blind chapter and the images chapter import these; a change is a change of the book's verdict.
    assert sensitivity.REGISTER_THRESHOLD == 1e-3 and sensitivity.BLIND_SHARE == 0.01


def test_threshold_curve_and_where_blindness_starts():
    changes = np.array([[1e-2, 1e-3, 1e-4, 0.0]] * 3)
    curve = sensitivity.shares_moved(changes, [1e-5, 1e-4, 1e-3, 1e-2])
    assert curve.tolist() == [0.75, 0.5, 0.25, 0.0]
    assert sensitivity.blind_from([1e-5, 1e-4], [0.5, 0.0], blind_share=0.25) == pytest.approx(10 ** -4.5)
    assert sensitivity.blind_from([1e-5, 1e-4], [0.5, 0.4]) == np.inf  # registers at every threshold
    assert sensitivity.blind_from([1e-5, 1e-4], [0.0, 0.0]) == 1e-5  # blind already at the first


@pytest.mark.parametrize("thresholds, shares, share", [
    ([1e-4], [0.1], 0.01),  # one point
    ([1e-3, 1e-4], [0.1, 0.0], 0.01),  # decreasing thresholds
    ([0.0, 1e-4], [0.1, 0.0], 0.01),  # a zero threshold
    ([1e-4, 1e-3], [np.nan, 0.0], 0.01),  # NaN share
    ([1e-4, 1e-3], [0.1, 0.0], 1.5),  # a share outside (0, 1)
])
def test_blind_from_rejects_bad_input(thresholds, shares, share):
    with pytest.raises(ValueError):
        sensitivity.blind_from(thresholds, shares, blind_share=share)


def test_shares_moved_rejects_bad_thresholds():
    with pytest.raises(ValueError):
        sensitivity.shares_moved([[0.1]], [])
    with pytest.raises(ValueError):
        sensitivity.shares_moved([[0.1]], [-1.0])


# --- Stacked convolutional networks: raw_unit_gradients and smallest_flip


def _linear_model(weights):
    """A 'stack' of linear models on 1x2x2 images, each scoring two classes."""
    return lambda inputs: torch.einsum("mnchw,mkchw->mnk", inputs, weights)


def test_raw_unit_gradients_follow_the_chain_rule():
    weights = torch.randn(2, 2, 1, 2, 2, dtype=torch.float64)
    raw = torch.rand(3, 1, 2, 2, dtype=torch.float64) * 255
    transforms = [lambda x: x / 255, lambda x: x / 255]
    gradient = sensitivity.raw_unit_gradients(_linear_model(weights), raw, transforms, "margin")
    predicted = torch.einsum("nchw,kchw->nk", raw / 255, weights[0]).argmax(1)
    sign = torch.where(predicted == 0, 1.0, -1.0).double()
    expected = sign.view(3, 1, 1, 1) * (weights[0, 0] - weights[0, 1]) / 255
    assert torch.allclose(gradient[0], expected)
    with pytest.raises(ValueError, match="measure"):
        sensitivity.raw_unit_gradients(_linear_model(weights), raw, transforms, "loss")
    with pytest.raises(ValueError, match="finite"):
        sensitivity.raw_unit_gradients(_linear_model(weights), raw * float("nan"), transforms)


def test_smallest_flip_finds_the_threshold_level():
    # class 1 wins when pixel 0 exceeds 100: score_1 = x0 - 100, score_0 = 0
    model = lambda inputs: torch.stack([torch.zeros_like(inputs[..., 0, 0, 0]), inputs[..., 0, 0, 0] - 100.5], -1)
    raw = torch.tensor([[[[90.0]]], [[[250.0]]]])
    flips = sensitivity.smallest_flip(model, raw, [lambda x: x], torch.zeros(1, 2, 1, dtype=torch.long))
    assert flips.tolist() == [[11.0, 150.0]]  # 90 -> 101 and 250 -> 100
    with pytest.raises(ValueError, match="pixels must be"):
        sensitivity.smallest_flip(model, raw, [lambda x: x], torch.zeros(2, 1, dtype=torch.long))


def test_one_level_changes_match_a_direct_computation():
    from utils.models import StackedCNN
    from utils.sensitivity import one_level_changes, registering_share

    net = StackedCNN([0, 1], 1, 8, 3)
    raw = torch.randint(0, 256, (3, 1, 8, 8)).float()
    raw[0, 0, 0, 0] = 255.0  # this pixel can only move down
    transforms = [lambda x: x / 255, lambda x: (x - 30.0) / 80.0]
    changes = one_level_changes(net, raw, transforms, pixels_per_pass=7)
    assert changes.shape == (2, 3, 64) and (changes >= 0).all()
    with torch.no_grad():
        for model, image, pixel in [(1, 0, 0), (0, 2, 37)]:
            moved = raw[image].clone().flatten()
            moved[pixel] += 1.0 if moved[pixel] < 255 else -1.0
            pair = torch.stack([transforms[model](raw[image]), transforms[model](moved.view(1, 8, 8))])
            p = torch.softmax(net.select([model])(pair[None]).double()[0], dim=-1)
            top = p[0].argmax()
            assert abs(abs(p[1, top] - p[0, top]).item() - changes[model, image, pixel]) < 1e-6
    shares = registering_share(changes, [1e-12, 1.0])
    assert shares.shape == (2, 2) and (shares[:, 1] == 0).all()


def test_one_level_changes_and_shares_reject_bad_input():
    from utils.models import StackedCNN
    from utils.sensitivity import one_level_changes, registering_share

    net = StackedCNN([0], 1, 8, 3)
    with pytest.raises(ValueError, match="raw"):
        one_level_changes(net, torch.full((1, 1, 8, 8), float("nan")), [lambda x: x])
    with pytest.raises(ValueError, match=r"\[0.0, 255.0\]"):
        one_level_changes(net, torch.full((1, 1, 8, 8), 300.0), [lambda x: x])
    with pytest.raises(ValueError, match="step"):
        one_level_changes(net, torch.zeros(1, 1, 8, 8), [lambda x: x], step=0.0)
    with pytest.raises(ValueError, match="transform"):
        one_level_changes(net, torch.zeros(1, 1, 8, 8), [])
    with pytest.raises(ValueError, match="changes"):
        registering_share(np.zeros((2, 3)), [1e-3])
    with pytest.raises(ValueError, match="thresholds"):
        registering_share(np.zeros((1, 2, 3)), [0.0])
