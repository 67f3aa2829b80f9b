"""from_torch: PyTorch modules through torch.onnx.export to tpu IR."""

from __future__ import annotations

from pathlib import Path

import pytest
from frontend_util import check_against_onnxruntime, check_weights, layer_ops, require_frontend

require_frontend()
torch = pytest.importorskip("torch", reason="from_torch needs PyTorch")

from tpuc.frontend import Preprocess, from_torch  # noqa: E402

nn = torch.nn


class Block(nn.Module):
    """Conv-BN-activation stack with the layers torch users write most."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.act = nn.SiLU()
        self.hs = nn.Hardswish()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.shuffle = nn.PixelShuffle(2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 5)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.act(self.bn(self.conv(x)))
        y = self.hs(self.dw(y))
        y = self.up(y)
        z = nn.functional.normalize(y, dim=1)
        s = self.shuffle(z)
        gate = torch.sigmoid(self.pool(y))
        y = y * gate
        bilinear = nn.functional.interpolate(
            y, scale_factor=2, mode="bilinear", align_corners=False
        )
        flat = torch.flatten(self.pool(s), 1)
        return self.fc(flat), torch.cat([bilinear, bilinear], dim=1)


def test_from_torch_module(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = Block()
    with torch.no_grad():
        module.bn.running_mean.uniform_(-1, 1)
        module.bn.running_var.uniform_(0.5, 2)
    pre = Preprocess(mean=(0.5,), std=(0.25,), raw_scale=1.0)
    converter = from_torch(
        module,
        torch.zeros(1, 3, 16, 16),
        "block",
        tmp_path / "block.mlir",
        opset=14,
        preprocess=pre,
    )
    assert converter.mlir_file.is_file() and (tmp_path / "block.onnx").is_file()
    ops = {op.op for op in layer_ops(converter.module)}
    for expected in (
        "tpu.conv_2d",
        "tpu.silu",
        "tpu.hard_swish",
        "tpu.upsample",
        "tpu.normalize",
        "tpu.pixel_shuffle",
        "tpu.broadcast_mul",
        "tpu.interp",
        "tpu.fully_connected",
        "tpu.concat",
        "tpu.pool_avg_2d",
    ):
        assert expected in ops, (expected, sorted(ops))
    check_against_onnxruntime(converter)
    check_weights(converter)


def test_from_torch_reports_export_failures(tmp_path: Path) -> None:
    from tpuc.frontend import ConversionError

    class Bad(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.linalg.svd(x)[0]

    with pytest.raises(ConversionError):
        from_torch(Bad(), torch.zeros(3, 3), "bad", tmp_path / "bad.mlir")
