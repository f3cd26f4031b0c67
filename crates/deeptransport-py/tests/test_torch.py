"""deeptransport.torch.record: forward hooks on an MLP, a tiny conv net and a ResNet-shaped model."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deeptransport as dt  # noqa: E402


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
        torch.nn.Linear(16, 3),
    )


def hooks_left(model):
    return sum(len(m._forward_hooks) for m in model.modules())


def test_record_an_mlp_default_children_in_forward_order():
    model = mlp()
    x = torch.randn(50, 2)
    acts = dt.torch.record(model, x)
    assert acts.names == ["input", "0", "1", "2", "3", "4"]
    assert [a.shape for a in acts] == [(50, 2), (50, 16), (50, 16), (50, 16), (50, 16), (50, 3)]
    assert all(a.dtype == np.float64 for a in acts)
    with torch.no_grad():
        h = model[1](model[0](x))
        out = model(x)
    np.testing.assert_array_equal(acts[0], x.double().numpy())
    np.testing.assert_allclose(acts[2], h.double().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(acts[-1], out.double().numpy(), rtol=0, atol=0)
    assert hooks_left(model) == 0
    r = dt.tracks(acts)
    assert r.n == 50 and r.layers == 6 and r.widths == [2, 16, 16, 16, 16, 3]


def test_record_named_modules_and_module_objects():
    model = mlp()
    x = torch.randn(10, 2)
    by_name = dt.torch.record(model, x, modules=["0", "2"])
    by_object = dt.torch.record(model, x, modules=[model[0], model[2]])
    assert by_name.names == by_object.names == ["input", "0", "2"]
    for a, b in zip(by_name, by_object):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="no module named 'fc'"):
        dt.torch.record(model, x, modules=["fc"])


class TinyConv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.act = torch.nn.ReLU()
        self.pool = torch.nn.AdaptiveAvgPool2d(2)
        self.flat = torch.nn.Flatten()
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.flat(self.pool(self.act(self.conv(x)))))


def test_record_a_conv_net_flattens_feature_maps_on_request():
    model = TinyConv()
    x = torch.randn(12, 1, 8, 8)
    acts = dt.torch.record(model, x, flatten=True)
    assert acts.names == ["input", "conv", "act", "pool", "flat", "fc"]
    assert [a.shape for a in acts] == [(12, 64), (12, 144), (12, 144), (12, 16), (12, 16), (12, 10)]
    with torch.no_grad():
        np.testing.assert_array_equal(acts[1], model.conv(x).reshape(12, -1).double().numpy())
    assert dt.tracks(acts).n == 12
    with pytest.raises(ValueError, match=r"module 'conv' output has shape \(12, 4, 6, 6\)"):
        dt.torch.record(model, x[:, :, :, :], modules=["conv"])
    assert hooks_left(model) == 0  # removed although the hook raised


def test_hooks_are_removed_when_the_forward_pass_fails():
    model = mlp()
    with pytest.raises(RuntimeError):
        dt.torch.record(model, torch.randn(5, 7))  # wrong input width
    assert hooks_left(model) == 0


class Block(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.lin = torch.nn.Linear(w, w)

    def forward(self, x):
        return x + torch.relu(self.lin(x))


class ResNetLike(torch.nn.Module):
    """torchvision's layout: stem, layer1..layer4 of residual blocks, head."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.stem = torch.nn.Linear(3, 8)
        self.layer1 = torch.nn.Sequential(Block(8), Block(8))
        self.layer2 = torch.nn.Sequential(Block(8))
        self.fc = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.layer2(self.layer1(self.stem(x))))


def test_resnets_default_to_their_residual_blocks():
    model = ResNetLike()
    assert dt.torch.default_modules(model) == ["layer1.0", "layer1.1", "layer2.0"]
    acts = dt.torch.record(model, torch.randn(20, 3))
    assert acts.names == ["input", "layer1.0", "layer1.1", "layer2.0"]
    r = dt.tracks(acts)
    assert r.widths == [3, 8, 8, 8]


def test_float64_models_and_tuple_outputs():
    lstm = torch.nn.LSTM(3, 5, batch_first=True)
    model = torch.nn.Sequential(lstm)
    acts = dt.torch.record(model, torch.randn(4, 6, 3), flatten=True)
    assert [a.shape for a in acts] == [(4, 18), (4, 30)]
